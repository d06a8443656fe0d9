// Warehouse (DuckDB) and dataset/namespace tests: migrations, Arrow streaming,
// read-only and sandboxed opens, dataset creation rules.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "warehouse/datasets.h"
#include "warehouse/schema.h"
#include "warehouse/warehouse.h"
#include "test_fs.h"
#include "warehouse_test_util.h"

namespace syndb::warehouse {
namespace {

namespace fs = std::filesystem;

using test_support::scalar;

// A fresh temp directory (dir_), removed by TearDown.
class WarehouseFixture : public test_support::TempDirTest {
 protected:
  WarehouseFixture() : TempDirTest("syndb_wh_test_") {}

  std::unique_ptr<Warehouse> open(const OpenOptions& o = {}) {
    auto w = open_duckdb(dir_, o);
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().to_string());
    if (!w.ok()) return nullptr;
    return std::move(w).value();
  }
  std::unique_ptr<Warehouse> open_migrated() {
    auto w = open();
    if (!w) return nullptr;
    auto v = w->migrate(latest_schema_version());
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
    return w;
  }
};

// ---------------------------------------------------------------------------
// Migrations

class WarehouseMigrate : public WarehouseFixture {};

TEST_F(WarehouseMigrate, FreshDatabaseMigratesToLatestWithPublicTables) {
  auto w = open();
  ASSERT_TRUE(w);
  auto v0 = w->schema_version();
  ASSERT_TRUE(v0.ok()) << v0.error().to_string();
  EXPECT_EQ(*v0, 0);

  auto v = w->migrate(latest_schema_version());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(*v, latest_schema_version());
  EXPECT_EQ(*w->schema_version(), latest_schema_version());

  // One row per migration, versions 1..latest in order.
  auto rows = w->query_text("SELECT version, description FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->rows.size(), migrations().size());
  for (size_t i = 0; i < migrations().size(); ++i) {
    EXPECT_EQ(rows->rows[i][0], std::to_string(migrations()[i].version));
    EXPECT_EQ(rows->rows[i][1], migrations()[i].description);
  }

  auto tables = w->describe();
  ASSERT_TRUE(tables.ok()) << tables.error().to_string();
  std::map<std::string, std::map<std::string, std::string>> got;  // table -> column -> type
  for (const auto& t : *tables) {
    EXPECT_NE(t.name, "schema_migrations") << "describe() must exclude schema_migrations";
    EXPECT_EQ(t.rows, 0) << t.name;
    for (const auto& c : t.columns) got[t.name][c.name] = c.type;
  }
  const std::map<std::string, std::map<std::string, std::string>> want = {
      {"dataset",
       {{"id", "VARCHAR"},
        {"title", "VARCHAR"},
        {"institution", "VARCHAR"},
        {"species", "VARCHAR"},
        {"stage", "VARCHAR"},
        {"age_hours", "DOUBLE"},
        {"method", "VARCHAR"},
        {"doi", "VARCHAR"},
        {"license", "VARCHAR"},
        {"citation", "VARCHAR"},
        {"policy", "VARCHAR"},
        {"policy_k", "INTEGER"}}},
      {"synapse",
       {{"dataset_id", "VARCHAR"},
        {"synapse_id", "BIGINT"},
        {"pre", "VARCHAR"},
        {"post", "VARCHAR"},
        {"size", "DOUBLE"},
        {"weight", "DOUBLE"},
        {"sections", "INTEGER"},
        {"post_is_branch", "BOOLEAN"}}},
      {"gap_junction",
       {{"dataset_id", "VARCHAR"}, {"gap_junction_id", "BIGINT"}, {"cell_a", "VARCHAR"}, {"cell_b", "VARCHAR"}}},
      {"cell",
       {{"dataset_id", "VARCHAR"},
        {"name", "VARCHAR"},
        {"class", "VARCHAR"},
        {"type", "VARCHAR"},
        {"volume_nm3", "DOUBLE"}}},
      {"ontology_term", {{"id", "VARCHAR"}, {"label", "VARCHAR"}, {"parent_id", "VARCHAR"}, {"kind", "VARCHAR"}}},
  };
  for (const auto& [table, cols] : want) {
    ASSERT_TRUE(got.count(table)) << "missing table " << table;
    for (const auto& [col, type] : cols) {
      ASSERT_TRUE(got[table].count(col)) << "missing column " << table << "." << col;
      EXPECT_EQ(got[table][col], type) << table << "." << col;
    }
  }
}

TEST_F(WarehouseMigrate, MigrateIsIdempotent) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  auto v = w->migrate(latest_schema_version());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(*v, latest_schema_version());
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM schema_migrations"), std::to_string(migrations().size()));
}

TEST_F(WarehouseMigrate, UpgradeFromVersionOneAppliesOnlyTheRestAndKeepsData) {
  ASSERT_GE(latest_schema_version(), 2) << "upgrade test needs at least two migrations";
  {
    auto w = open();
    ASSERT_TRUE(w);
    auto v1 = w->migrate(1);
    ASSERT_TRUE(v1.ok()) << v1.error().to_string();
    EXPECT_EQ(*v1, 1);
    EXPECT_EQ(*w->schema_version(), 1);
    EXPECT_EQ(scalar(*w, "SELECT count(*) FROM schema_migrations"), "1");
    ASSERT_TRUE(w->execute("INSERT INTO dataset (id, title, institution) VALUES ('/a/b/c', 'T', 'I')").ok());
    ASSERT_TRUE(w->execute("INSERT INTO synapse (dataset_id, synapse_id, pre, post, size) "
                           "VALUES ('/a/b/c', 7, 'AVAL', 'AVAR', 12.5)")
                    .ok());
  }
  // Reopen (as an upgraded build would) and migrate to latest.
  auto w = open();
  ASSERT_TRUE(w);
  EXPECT_EQ(*w->schema_version(), 1);
  auto v = w->migrate(latest_schema_version());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(*v, latest_schema_version());

  auto rows = w->query_text("SELECT version FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), static_cast<size_t>(latest_schema_version()));
  for (int i = 0; i < latest_schema_version(); ++i) EXPECT_EQ(rows->rows[i][0], std::to_string(i + 1));

  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset WHERE id = '/a/b/c' AND title = 'T'"), "1");
  EXPECT_EQ(scalar(*w, "SELECT size FROM synapse WHERE synapse_id = 7"), "12.5");
  // Objects of the later migrations exist and see the old data.
  EXPECT_EQ(scalar(*w, "SELECT synapses FROM dataset_stats WHERE dataset_id = '/a/b/c'"), "1");
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM node_info"), "0");
}

TEST_F(WarehouseMigrate, RefusesDatabaseNewerThanThisBuild) {
  const int newer = latest_schema_version() + 1;
  {
    auto w = open_migrated();
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->execute("INSERT INTO schema_migrations (version, description) VALUES (" + std::to_string(newer) +
                           ", 'from the future')")
                    .ok());
  }
  auto w = open_duckdb(dir_);
  ASSERT_FALSE(w.ok()) << "opened a warehouse at schema version " << newer;
  EXPECT_EQ(w.error().code(), ErrorCode::kUnsupported) << w.error().to_string();
  EXPECT_NE(w.error().message().find("newer"), std::string::npos) << w.error().message();

  // Read-only open refuses as well.
  OpenOptions ro;
  ro.read_only = true;
  auto r = open_duckdb(dir_, ro);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported) << r.error().to_string();
}

// ---------------------------------------------------------------------------
// Arrow streaming

class WarehouseArrow : public WarehouseFixture {};

TEST_F(WarehouseArrow, StreamsMoreThanOneBatch) {
  auto w = open();
  ASSERT_TRUE(w);
  auto s = w->query_arrow("SELECT range AS a, range * 2 AS b, 'x' || range::VARCHAR AS c FROM range(5000)");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  const ArrowSchema& schema = (*s)->schema();
  ASSERT_NE(schema.release, nullptr);
  EXPECT_STREQ(schema.format, "+s");
  ASSERT_EQ(schema.n_children, 3);
  EXPECT_STREQ(schema.children[0]->name, "a");
  EXPECT_STREQ(schema.children[1]->name, "b");
  EXPECT_STREQ(schema.children[2]->name, "c");
  EXPECT_STREQ(schema.children[0]->format, "l");  // int64

  int batches = 0;
  int64_t total = 0, sum_a = 0, sum_b = 0;
  for (;;) {
    OwnedArrowArray batch;
    auto more = (*s)->next(&batch);
    ASSERT_TRUE(more.ok()) << more.error().to_string();
    if (!*more) break;
    ++batches;
    ASSERT_NE(batch->release, nullptr);
    ASSERT_EQ(batch->n_children, 3);
    EXPECT_GT(batch->length, 0);
    EXPECT_LE(batch->length, 2048) << "one DuckDB vector per batch";
    total += batch->length;
    for (int col = 0; col < 2; ++col) {
      const ArrowArray* child = batch->children[col];
      ASSERT_EQ(child->length, batch->length);
      const auto* data = static_cast<const int64_t*>(child->buffers[1]);
      for (int64_t i = 0; i < child->length; ++i) (col == 0 ? sum_a : sum_b) += data[child->offset + i];
    }
  }
  EXPECT_GT(batches, 1);
  EXPECT_EQ(total, 5000);
  EXPECT_EQ(sum_a, 4999LL * 5000 / 2);
  EXPECT_EQ(sum_b, 4999LL * 5000);
}

TEST_F(WarehouseArrow, SelectiveFilterRowsArePackedIntoFullBatches) {
  auto w = open();
  ASSERT_TRUE(w);
  // One row in a thousand: the streaming result yields a chunk of a row or
  // two per vector scanned; next() packs them (strings included).
  auto s = w->query_arrow("SELECT i, 'v' || i::VARCHAR AS s FROM range(3000000) t(i) WHERE i % 1000 = 7");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  int batches = 0;
  int64_t rows = 0, sum = 0;
  bool strings_ok = true;
  for (;;) {
    OwnedArrowArray batch;
    auto more = (*s)->next(&batch);
    ASSERT_TRUE(more.ok()) << more.error().to_string();
    if (!*more) break;
    ++batches;
    EXPECT_LE(batch->length, 2048);
    const auto* ints = static_cast<const int64_t*>(batch->children[0]->buffers[1]) + batch->children[0]->offset;
    const ArrowArray* str = batch->children[1];
    const auto* offsets = static_cast<const int32_t*>(str->buffers[1]) + str->offset;
    const auto* chars = static_cast<const char*>(str->buffers[2]);
    for (int64_t i = 0; i < batch->length; ++i) {
      sum += ints[i];
      std::string got(chars + offsets[i], offsets[i + 1] - offsets[i]);
      if (got != "v" + std::to_string(ints[i])) strings_ok = false;
    }
    rows += batch->length;
  }
  EXPECT_EQ(rows, 3000);
  EXPECT_EQ(sum, 3000LL * 7 + 1000LL * (2999LL * 3000 / 2));
  EXPECT_TRUE(strings_ok);
  EXPECT_LE(batches, 3) << "3000 rows fit in two vectors";
}

TEST_F(WarehouseArrow, BadQueryIsAnError) {
  auto w = open();
  ASSERT_TRUE(w);
  auto s = w->query_arrow("SELECT * FROM no_such_table");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("no_such_table"), std::string::npos) << s.error().message();
  auto syntax = w->query_arrow("SELEC 1");
  EXPECT_FALSE(syntax.ok());
  // A runtime error (after preparing) surfaces too, from init or from next().
  auto runtime = w->query_arrow("SELECT error('boom') FROM range(3)");
  if (runtime.ok()) {
    OwnedArrowArray batch;
    auto more = (*runtime)->next(&batch);
    EXPECT_FALSE(more.ok()) << "error('boom') produced a batch";
  }
  // The connection stays usable.
  EXPECT_EQ(scalar(*w, "SELECT 41 + 1"), "42");
}

TEST_F(WarehouseArrow, QueryTextReturnsNullsAndNames) {
  auto w = open();
  ASSERT_TRUE(w);
  auto r = w->query_text("SELECT 1 AS one, NULL::INTEGER AS nothing, 'x' AS s;");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->columns, (std::vector<std::string>{"one", "nothing", "s"}));
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0][0], "1");
  EXPECT_FALSE(r->rows[0][1].has_value());
  EXPECT_EQ(r->rows[0][2], "x");
}

// ---------------------------------------------------------------------------
// Read-only and sandboxed opens

class WarehouseAccess : public WarehouseFixture {};

TEST_F(WarehouseAccess, ReadOnlyOpenRefusesWrites) {
  {
    auto w = open_migrated();
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->execute("INSERT INTO dataset (id, title, institution) VALUES ('/a/b/c', 'T', 'I')").ok());
  }
  OpenOptions ro;
  ro.read_only = true;
  auto w = open(ro);
  ASSERT_TRUE(w);
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset"), "1");
  EXPECT_FALSE(w->execute("INSERT INTO dataset (id, title, institution) VALUES ('/a/b/d', 'T', 'I')").ok());
  EXPECT_FALSE(w->execute("CREATE TABLE t (x INTEGER)").ok());
  EXPECT_FALSE(w->execute("DELETE FROM dataset").ok());
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset"), "1");
}

TEST_F(WarehouseAccess, ReadOnlyOpenOfMissingWarehouseIsNotFound) {
  OpenOptions ro;
  ro.read_only = true;
  auto w = open_duckdb(dir_ + "/nothing_here", ro);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code(), ErrorCode::kNotFound) << w.error().to_string();
  EXPECT_FALSE(fs::exists(dir_ + "/nothing_here")) << "a read-only open must not create the data dir";
}

TEST_F(WarehouseAccess, SandboxRefusesFilesAndConfigChanges) {
  // A file the sandbox must not be able to read, with known content.
  std::string secret = dir_ + "/secret.csv";
  {
    auto w = open();  // an ordinary open can read it
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->execute("COPY (SELECT 1 AS x) TO '" + secret + "' (HEADER)").ok());
    EXPECT_EQ(scalar(*w, "SELECT count(*) FROM read_csv('" + secret + "')"), "1");
    ASSERT_TRUE(w->migrate(latest_schema_version()).ok());
  }
  OpenOptions sb;
  sb.sandbox = true;
  auto w = open(sb);
  ASSERT_TRUE(w);
  // Ordinary SQL over the warehouse still works.
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset"), "0");
  EXPECT_EQ(scalar(*w, "SELECT sum(range) FROM range(10)"), "45");

  EXPECT_FALSE(w->query_text("SELECT * FROM read_csv('/etc/passwd')").ok());
  EXPECT_FALSE(w->query_text("SELECT * FROM read_csv('" + secret + "')").ok());
  {
    // Through the Arrow path too (the error may come from preparing or from the first batch).
    auto s = w->query_arrow("SELECT * FROM read_text('/etc/passwd')");
    if (s.ok()) {
      OwnedArrowArray batch;
      EXPECT_FALSE((*s)->next(&batch).ok()) << "sandbox streamed /etc/passwd";
    }
  }
  EXPECT_FALSE(w->query_text("SELECT * FROM read_text('/etc/passwd')").ok());
  EXPECT_FALSE(w->execute("COPY (SELECT 1) TO '" + dir_ + "/out.csv'").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/out.csv"));
  EXPECT_FALSE(w->execute("ATTACH '" + dir_ + "/other.duckdb' AS other").ok());
  EXPECT_FALSE(w->execute("INSTALL httpfs").ok());

  // Configuration is locked: external access cannot be re-enabled.
  EXPECT_FALSE(w->execute("SET enable_external_access = true").ok());
  EXPECT_FALSE(w->execute("SET lock_configuration = false").ok());
  (void)w->execute("RESET enable_external_access");
  (void)w->execute("RESET ALL");
  EXPECT_FALSE(w->query_text("SELECT * FROM read_csv('/etc/passwd')").ok()) << "a RESET re-opened file access";
  EXPECT_EQ(scalar(*w, "SELECT current_setting('enable_external_access')"), "false");
}

TEST_F(WarehouseAccess, SandboxWithMemoryLimitAndThreads) {
  OpenOptions sb;
  sb.sandbox = true;
  sb.memory_limit = "256MB";
  sb.threads = 1;
  auto w = open_duckdb(":memory:", sb);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  EXPECT_EQ(scalar(**w, "SELECT current_setting('threads')"), "1");
  EXPECT_EQ(scalar(**w, "SELECT current_setting('enable_external_access')"), "false");
  EXPECT_FALSE((*w)->execute("SET memory_limit = '64GB'").ok());
}

// ---------------------------------------------------------------------------
// Appender and transactions

class WarehouseAppend : public WarehouseFixture {};

TEST_F(WarehouseAppend, AppendRowsAndRollback) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  {
    ASSERT_TRUE(w->begin().ok());
    auto app = w->appender("synapse");
    ASSERT_TRUE(app.ok()) << app.error().to_string();
    ASSERT_TRUE((*app)->append_row({std::string("/a/b/c"), int64_t{1}, std::string("A"), std::string("B"), 2.5,
                                    Value(), int64_t{3}, true})
                    .ok());
    ASSERT_TRUE((*app)->close().ok());
    ASSERT_TRUE(w->commit().ok());
  }
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM synapse WHERE weight IS NULL AND post_is_branch AND sections = 3"), "1");
  {
    ASSERT_TRUE(w->begin().ok());
    auto app = w->appender("synapse");
    ASSERT_TRUE(app.ok());
    ASSERT_TRUE((*app)->append_row({std::string("/a/b/c"), int64_t{2}, std::string("A"), std::string("B"), Value(),
                                    Value(), Value(), Value()})
                    .ok());
    ASSERT_TRUE((*app)->close().ok());
    ASSERT_TRUE(w->rollback().ok());
  }
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM synapse"), "1");
  // NOT NULL violation: the error names the table.
  auto app = w->appender("synapse");
  ASSERT_TRUE(app.ok());
  Status st = (*app)->append_row({std::string("/a/b/c"), Value(), std::string("A"), std::string("B"), Value(),
                                  Value(), Value(), Value()});
  if (st.ok()) st = (*app)->close();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("synapse"), std::string::npos) << st.error().message();
  EXPECT_FALSE(w->appender("no_such_table").ok());
}

// "Rows become visible when the enclosing transaction commits": rows still
// buffered in an appender when the transaction is rolled back must not be
// written afterwards (e.g. when the appender is destroyed after the rollback,
// as on every error path of an import).
TEST_F(WarehouseAppend, UnclosedAppenderRowsDoNotSurviveRollback) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  {
    ASSERT_TRUE(w->begin().ok());
    auto app = w->appender("synapse");
    ASSERT_TRUE(app.ok()) << app.error().to_string();
    for (int64_t i = 0; i < 10; ++i) {
      ASSERT_TRUE((*app)->append_row({std::string("/a/b/c"), i, std::string("A"), std::string("B"), Value(), Value(),
                                      Value(), Value()})
                      .ok());
    }
    ASSERT_TRUE(w->rollback().ok());
    // The appender goes out of scope here, after the rollback.
  }
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM synapse"), "0") << "rolled-back rows were written when the appender died";
}

// The safe order: close (flush into the transaction), then roll back.
TEST_F(WarehouseAppend, ClosedAppenderRowsAreDiscardedByRollback) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->begin().ok());
  {
    auto app = w->appender("synapse");
    ASSERT_TRUE(app.ok()) << app.error().to_string();
    for (int64_t i = 0; i < 10; ++i) {
      ASSERT_TRUE((*app)->append_row({std::string("/a/b/c"), i, std::string("A"), std::string("B"), Value(), Value(),
                                      Value(), Value()})
                      .ok());
    }
    ASSERT_TRUE((*app)->close().ok());
    EXPECT_FALSE((*app)->append_row({std::string("/a/b/c"), int64_t{99}, std::string("A"), std::string("B"), Value(),
                                     Value(), Value(), Value()})
                     .ok())
        << "append after close() succeeded";
  }
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM synapse"), "10") << "visible inside the transaction";
  ASSERT_TRUE(w->rollback().ok());
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM synapse"), "0");
}

// ---------------------------------------------------------------------------
// Datasets and the node's namespace

class DatasetNamespace : public WarehouseFixture {
 protected:
  static DatasetMeta meta(const std::string& id) {
    DatasetMeta m;
    m.id = id;
    m.title = "title of " + id;
    m.institution = "University of Toronto";
    return m;
  }
};

TEST_F(DatasetNamespace, CreateNeedsAClaimedNamespace) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  auto p = namespace_prefix(*w);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_FALSE(p->has_value());
  Status st = create_dataset(*w, meta("/toronto/x/y"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied) << st.error().to_string();
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset"), "0");
}

TEST_F(DatasetNamespace, CreateOutsideNamespaceIsPermissionDenied) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(claim_namespace(*w, "/toronto").ok());
  EXPECT_EQ(**namespace_prefix(*w), "/toronto");

  Status st = create_dataset(*w, meta("/mit/x/y"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied) << st.error().to_string();
  // A prefix match must end at a segment boundary.
  st = create_dataset(*w, meta("/torontox/x/y"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied) << st.error().to_string();
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset"), "0");

  ASSERT_TRUE(create_dataset(*w, meta("/toronto/x/y")).ok());
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset WHERE id = '/toronto/x/y'"), "1");
}

TEST_F(DatasetNamespace, CollectionPrefixRestrictsToThatCollection) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(claim_namespace(*w, "/toronto/witvliet").ok());
  EXPECT_TRUE(create_dataset(*w, meta("/toronto/witvliet/d1")).ok());
  Status st = create_dataset(*w, meta("/toronto/other/d1"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(DatasetNamespace, BadIdFormsAreRejected) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(claim_namespace(*w, "/toronto").ok());
  for (const std::string id : {"", "/", "toronto/x/y", "/toronto", "/toronto/x", "/toronto/x/y/z", "/toronto/x/",
                               "/toronto//y", "/toronto/x y/z", "/toronto/../y", "/toronto/x/..", "/toronto/x/y;z",
                               "/toronto/x/y'", "/toronto/x/ü"}) {
    EXPECT_FALSE(validate_dataset_id(id).ok()) << "'" << id << "'";
    Status st = create_dataset(*w, meta(id));
    ASSERT_FALSE(st.ok()) << "created '" << id << "'";
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << "'" << id << "': " << st.error().to_string();
  }
  for (const std::string id : {"/toronto/x/y", "/toronto/a.b/c_d-1", "/A/B/C"}) {
    EXPECT_TRUE(validate_dataset_id(id).ok()) << id;
  }
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset"), "0");
}

TEST_F(DatasetNamespace, BadPrefixesAreRejected) {
  for (const std::string p : {"", "/", "toronto", "/toronto/", "/a/b/c", "/a b", "/.."}) {
    EXPECT_FALSE(validate_prefix(p).ok()) << "'" << p << "'";
  }
  EXPECT_TRUE(validate_prefix("/toronto").ok());
  EXPECT_TRUE(validate_prefix("/toronto/witvliet2021").ok());
  auto w = open_migrated();
  ASSERT_TRUE(w);
  Status st = claim_namespace(*w, "toronto");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE((*namespace_prefix(*w)).has_value());
}

TEST_F(DatasetNamespace, PolicyRules) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(claim_namespace(*w, "/toronto").ok());

  DatasetMeta m = meta("/toronto/x/agg");
  m.policy = "aggregate_only";
  Status st = create_dataset(*w, m);
  ASSERT_FALSE(st.ok()) << "aggregate_only without k accepted";
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  m.policy_k = 0;
  st = create_dataset(*w, m);
  ASSERT_FALSE(st.ok()) << "aggregate_only with k = 0 accepted";
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  m.policy_k = 5;
  ASSERT_TRUE(create_dataset(*w, m).ok());
  EXPECT_EQ(scalar(*w, "SELECT policy || ':' || policy_k FROM dataset WHERE id = '/toronto/x/agg'"),
            "aggregate_only:5");

  DatasetMeta bad = meta("/toronto/x/bad");
  bad.policy = "everyone";
  st = create_dataset(*w, bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);

  for (const char* p : kPolicies) {
    if (std::string(p) == "aggregate_only") continue;
    DatasetMeta ok = meta(std::string("/toronto/p/") + p);
    ok.policy = p;
    EXPECT_TRUE(create_dataset(*w, ok).ok()) << p;
  }
}

TEST_F(DatasetNamespace, DuplicateIdIsRejected) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(claim_namespace(*w, "/toronto").ok());
  ASSERT_TRUE(create_dataset(*w, meta("/toronto/x/y")).ok());
  Status st = create_dataset(*w, meta("/toronto/x/y"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << st.error().to_string();
  EXPECT_NE(st.error().message().find("/toronto/x/y"), std::string::npos) << st.error().message();
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM dataset"), "1");
}

TEST_F(DatasetNamespace, SecondDifferentClaimIsPermissionDenied) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(claim_namespace(*w, "/toronto").ok());
  EXPECT_TRUE(claim_namespace(*w, "/toronto").ok()) << "re-claiming the same prefix is a no-op";
  Status st = claim_namespace(*w, "/mit");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied) << st.error().to_string();
  st = claim_namespace(*w, "/toronto/sub");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied) << st.error().to_string();
  EXPECT_EQ(**namespace_prefix(*w), "/toronto");
  EXPECT_EQ(scalar(*w, "SELECT count(*) FROM node_info"), "1");
}

TEST_F(DatasetNamespace, MetadataRoundTripsThroughListDatasets) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  ASSERT_TRUE(claim_namespace(*w, "/toronto").ok());
  DatasetMeta m = meta("/toronto/x/y");
  m.species = "Caenorhabditis elegans";
  m.stage = "L1";
  m.age_hours = 5.5;
  m.method = "ssEM";
  m.doi = "10.1/x";
  m.license = "CC-BY-4.0";
  m.citation = "O'Brien et al.";  // a quote must survive
  ASSERT_TRUE(create_dataset(*w, m).ok());
  ASSERT_TRUE(w->execute("INSERT INTO synapse (dataset_id, synapse_id, pre, post) VALUES "
                         "('/toronto/x/y', 1, 'A', 'B'), ('/toronto/x/y', 1, 'A', 'C')")
                  .ok());
  auto list = list_datasets(*w);
  ASSERT_TRUE(list.ok()) << list.error().to_string();
  ASSERT_EQ(list->size(), 1u);
  const auto& s = (*list)[0];
  EXPECT_EQ(s.meta.id, m.id);
  EXPECT_EQ(s.meta.title, m.title);
  EXPECT_EQ(s.meta.stage, "L1");
  ASSERT_TRUE(s.meta.age_hours.has_value());
  EXPECT_DOUBLE_EQ(*s.meta.age_hours, 5.5);
  EXPECT_EQ(s.meta.citation, "O'Brien et al.");
  EXPECT_EQ(s.meta.policy, "public");
  EXPECT_FALSE(s.meta.policy_k.has_value());
  EXPECT_EQ(s.synapses, 2);
  EXPECT_EQ(s.gap_junctions, 0);
  EXPECT_EQ(s.cells, 0);
}

}  // namespace
}  // namespace syndb::warehouse
