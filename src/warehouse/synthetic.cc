#include "warehouse/synthetic.h"

#include <fmt/format.h>

#include "warehouse/datasets.h"

namespace syndb::warehouse {

namespace {

// A deterministic pseudo-random value in [0, 1) from integer expressions (a
// hash, so results do not depend on DuckDB's thread scheduling).
std::string uniform(const std::string& key, uint64_t seed, int salt) {
  return fmt::format("(hash({}, {}::UBIGINT, {}) % 1000000007) / 1000000007.0", key, seed, salt);
}

// SELECT producing synapse rows for row numbers 0..rows-1 (column i).
std::string synapse_select(const SyntheticOptions& o) {
  const std::string syn = "(i // 3)";  // ~3 partner rows per synapse: polyadic
  std::string cells =
      "['ADAL','ADAR','AIAL','AIAR','AIBL','AIBR','AIYL','AIYR','AIZL','AIZR','ASHL','ASHR','AVAL','AVAR',"
      "'AVBL','AVBR','AVDL','AVDR','AVEL','AVER','AWCL','AWCR','BAGL','BAGR','CEPDL','CEPDR','DVA','DVC',"
      "'FLPL','FLPR','IL1L','IL1R','IL2L','IL2R','OLQDL','OLQDR','PVCL','PVCR','RIAL','RIAR','RIBL','RIBR',"
      "'RICL','RICR','RIML','RIMR','RIS','RMDL','RMDR','SAAVL','SAAVR','SMBDL','SMBDR','URXL','URXR',"
      "'BWM-DL01','BWM-DR01','BWM-VL01','BWM-VR01']";
  std::string pick = fmt::format("{}[1 + floor({} * 59)::INTEGER]", cells, uniform(syn, o.seed, 1));
  std::string post = fmt::format("{}[1 + floor({} * 59)::INTEGER]", cells, uniform("i", o.seed, 2));
  // Box-Muller normal for a log-normal size around 3e5 nm^2-ish, as in the data.
  std::string normal = fmt::format("sqrt(-2 * ln(1 - {})) * cos(2 * pi() * {})", uniform(syn, o.seed, 3),
                                   uniform(syn, o.seed, 4));
  return fmt::format(
      "SELECT '{}/dataset' || (1 + ({} % {})) AS dataset_id, {} AS synapse_id, {} AS pre, {} AS post, "
      "round(exp(12.5 + 0.8 * {}), 1) AS size, "
      "CASE i % 3 WHEN 0 THEN 0.5 WHEN 1 THEN 0.3 ELSE 0.2 END AS weight, "
      "1 + floor({} * 30)::INTEGER AS sections, "
      "CASE WHEN {} < 0.15 THEN true WHEN {} < 0.99 THEN false ELSE NULL END AS post_is_branch "
      "FROM range({}) t(i)",
      o.prefix, syn, o.datasets, syn, pick, post, normal, uniform(syn, o.seed, 5), uniform("i", o.seed, 6),
      uniform("i", o.seed, 6), o.rows);
}

}  // namespace

Result<int64_t> generate_synthetic(Warehouse& w, const SyntheticOptions& o) {
  if (o.rows < 0 || o.datasets < 1) return Error(ErrorCode::kInvalidArgument, "usage: --rows >= 0, --datasets >= 1");
  SYNDB_RETURN_IF_ERROR(validate_prefix(o.prefix));
  SYNDB_RETURN_IF_ERROR(w.begin());
  auto fail = [&](const Error& e) -> Error {
    (void)w.rollback();
    return e;
  };
  auto st = claim_namespace(w, o.prefix.substr(0, o.prefix.find('/', 1)));
  if (!st.ok()) return fail(st.error());
  for (int k = 1; k <= o.datasets; ++k) {
    DatasetMeta m;
    m.id = o.prefix + "/dataset" + std::to_string(k);
    m.title = "Synthetic connectome " + std::to_string(k);
    m.institution = "synthetic";
    m.species = "Caenorhabditis elegans";
    const char* stages[] = {"L1", "L2", "L3", "L4", "Adult"};
    m.stage = stages[(k - 1) % 5];
    m.age_hours = 10.0 * ((k - 1) % 5);
    m.method = "synthetic";
    m.license = "CC0-1.0";
    st = create_dataset(w, m);
    if (!st.ok()) return fail(st.error());
  }
  st = w.execute("INSERT INTO synapse " + synapse_select(o));
  if (!st.ok()) return fail(st.error());
  st = w.execute(fmt::format(
      "INSERT INTO gap_junction SELECT dataset_id, synapse_id, pre, post FROM ({}) WHERE synapse_id % 10 = 0 "
      "AND weight = 0.5",
      synapse_select(o)));
  if (!st.ok()) return fail(st.error());
  st = w.execute(
      "INSERT INTO cell SELECT DISTINCT s.dataset_id, s.pre, NULL, NULL, NULL FROM synapse s "
      "WHERE s.dataset_id LIKE '" + o.prefix + "/%'");
  if (!st.ok()) return fail(st.error());
  st = w.commit();
  if (!st.ok()) return fail(st.error());
  return o.rows;
}

Result<int64_t> write_synthetic_synapse_csv(const std::string& path, const SyntheticOptions& o) {
  if (o.rows < 0 || o.datasets < 1) return Error(ErrorCode::kInvalidArgument, "usage: --rows >= 0, --datasets >= 1");
  SYNDB_ASSIGN_OR_RETURN(auto w, open_duckdb(":memory:"));
  std::string escaped;
  for (char c : path) escaped += (c == '\'') ? std::string("''") : std::string(1, c);
  SYNDB_RETURN_IF_ERROR(w->execute("COPY (" + synapse_select(o) + ") TO '" + escaped + "' (HEADER, DELIMITER ',')"));
  return o.rows;
}

}  // namespace syndb::warehouse
