// syndb command line: entry point and argument parsing (CLI11). Each
// subcommand lives in its own function in cli/commands.h.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <set>

#include "cli/commands.h"

using namespace syndb::cli;

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("syndb");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"syndb: a peer-to-peer federation of neuroscience data warehouses over libp2p"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "syndb 0.1.0");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (to stderr)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  KeygenOptions keygen;
  auto* c_keygen = app.add_subcommand("keygen", "Create an Ed25519 identity key file (mode 0600) and print its PeerId");
  c_keygen->add_option("--out", keygen.out, "Key file to write")->required();
  c_keygen->add_flag("--force", keygen.force, "Overwrite an existing file");

  std::string id_key;
  auto* c_id = app.add_subcommand("id", "Print the PeerId of a key file");
  c_id->add_option("--key", id_key, "Key file")->required();

  NodeOptions node, hub;
  hub.hub = true;
  auto add_node_flags = [](CLI::App* c, NodeOptions& n) {
    c->add_option("--config", n.config, "TOML config file; flags given here override its keys");
    c->add_option("--key", n.key, "Identity key file (created by `syndb keygen`)");
    c->add_option("--listen", n.listen, "Listen multiaddr, repeatable (default /ip4/127.0.0.1/tcp/4001)");
    c->add_option("--handshake-timeout-ms", n.handshake_timeout_ms, "Connection upgrade timeout, ms")
        ->capture_default_str();
    c->add_option("--max-streams", n.max_streams, "Yamux streams per connection")->capture_default_str();
    c->add_option("--data-dir", n.data_dir, "Data directory (warehouse); enables the federation control plane");
    c->add_option("--name", n.name, "Name shown in the federation (default: start of the PeerId)");
    c->add_option("--bootstrap", n.bootstrap, "Multiaddr of a hub or peer to stay connected to, repeatable");
    c->add_option("--federation-file", n.federation_file, "Signed federation membership file");
    c->add_option("--federation-admin", n.federation_admin, "Expected admin PeerId of the federation file");
    c->add_flag("--mdns", n.mdns, "Discover peers on the LAN with mDNS (_p2p._udp.local)");
    c->add_option("--request-timeout-ms", n.request_timeout_ms, "Federation request timeout, ms")
        ->capture_default_str();
    c->add_option("--max-schema-version", n.max_schema_version, "Migrate the warehouse only up to this version (tests)");
    c->add_option("--flight-listen", n.flight_listen,
                  "Flight address host:port serving query fragments to the federation (port 0 = any; '' = off)")
        ->capture_default_str();
    c->add_option("--memory-limit", n.memory_limit, "DuckDB memory limit for all queries together, e.g. 4GB");
    c->add_option("--fragment-timeout-ms", n.fragment_timeout_ms, "A query fragment is cancelled after this, ms")
        ->capture_default_str();
  };
  auto* c_node = app.add_subcommand("node", "Run a node: libp2p host (identify, ping, perf) and, with --data-dir, "
                                            "the warehouse and federation control plane, until SIGINT/SIGTERM");
  add_node_flags(c_node, node);
  auto* c_hub = app.add_subcommand("hub", "Run a hub: a node plus registry, health monitor, schema sync and HTTP API");
  add_node_flags(c_hub, hub);
  c_hub->add_option("--http-listen", hub.http_listen, "HTTP API address host:port (port 0 = any)")->capture_default_str();
  c_hub->add_option("--flight-sql-listen", hub.flight_sql_listen,
                    "Flight SQL address host:port for SQL clients (port 0 = any; '' = off)")
      ->capture_default_str();
  c_hub->add_option("--statement-timeout-ms", hub.statement_timeout_ms, "A Flight SQL statement is cancelled after this, ms")
      ->capture_default_str();
  c_hub->add_option("--health-interval-ms", hub.health_interval_ms, "HealthPing interval, ms")->capture_default_str();
  c_hub->add_option("--health-timeout-ms", hub.health_timeout_ms, "HealthPing timeout, ms")->capture_default_str();
  c_hub->add_option("--degraded-rtt-ms", hub.degraded_rtt_ms, "Slower pings make a node Degraded, ms")
      ->capture_default_str();
  c_hub->add_option("--unreachable-after", hub.unreachable_after, "Consecutive failures before Unreachable")
      ->capture_default_str();
  c_hub->add_option("--probe-backoff-ms", hub.probe_backoff_ms, "First half-open probe delay, ms")->capture_default_str();
  c_hub->add_option("--probe-backoff-max-ms", hub.probe_backoff_max_ms, "Longest probe delay, ms")->capture_default_str();

  FederationOptions fed;
  auto* c_fed = app.add_subcommand("federation", "Federation membership and status");
  c_fed->require_subcommand(1);
  auto* c_fed_status = c_fed->add_subcommand("status", "Print the hub's clusters as a table");
  c_fed_status->add_option("--hub", fed.hub_url, "Hub HTTP URL")->capture_default_str();
  auto* c_fed_init = c_fed->add_subcommand("init", "Create a federation file signed by the admin key");
  c_fed_init->add_option("--admin-key", fed.admin_key, "Admin key file (created when absent)")->required();
  c_fed_init->add_option("--file", fed.file, "Federation file to create")->capture_default_str();
  c_fed_init->add_option("--name", fed.name, "Federation name")->capture_default_str();
  auto* c_fed_admit = c_fed->add_subcommand("admit", "Admit a PeerId and re-sign the federation file");
  c_fed_admit->add_option("peer_id", fed.peer_id, "PeerId to admit")->required();
  c_fed_admit->add_option("--admin-key", fed.admin_key, "Admin key file")->required();
  c_fed_admit->add_option("--file", fed.file, "Federation file")->capture_default_str();

  QueryCliOptions q;
  auto* c_query = app.add_subcommand("query", "Ask the federation one SQL question (POST /v1/query on a hub)");
  c_query->add_option("sql", q.sql, "SELECT over synapse, gap_junction, cell, dataset, ontology_term")->required();
  c_query->add_option("--hub", q.hub_url, "Hub HTTP URL")->capture_default_str();
  c_query->add_option("--format", q.format, "table | csv | json | arrow (Arrow IPC stream)")->capture_default_str();
  c_query->add_option("--output", q.output, "Write the result to FILE instead of stdout");
  c_query->add_flag("--allow-partial", q.allow_partial,
                    "Answer from the reachable nodes when one is down (marked incomplete) instead of failing");
  c_query->add_option("--timeout-ms", q.timeout_ms, "Give up after this many ms")->capture_default_str();

  TokenOptions token;
  auto* c_token = app.add_subcommand("token", "Flight SQL bearer tokens of a hub");
  c_token->require_subcommand(1);
  auto* c_token_create = c_token->add_subcommand("create", "Create a token in the hub's metastore and print it");
  c_token_create->add_option("--hub-data-dir", token.hub_data_dir, "The hub's --data-dir")->required();
  c_token_create->add_option("--label", token.label, "What the token is for (stored with it)")->capture_default_str();

  PingOptions ping;
  auto* c_ping = app.add_subcommand("ping", "Ping a peer over /ipfs/ping/1.0.0; prints rtt_us=<µs> per ping");
  c_ping->add_option("multiaddr", ping.addr, "Peer multiaddr, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…")
      ->required();
  c_ping->add_option("--count", ping.count, "Number of pings")->capture_default_str()->check(CLI::Range(1, 1000000));
  c_ping->add_option("--timeout-ms", ping.timeout_ms, "Give up after this many ms")->capture_default_str();

  PingOptions ident;
  auto* c_ident = app.add_subcommand("identify", "Run /ipfs/id/1.0.0 against a peer; prints one JSON object");
  c_ident->add_option("multiaddr", ident.addr, "Peer multiaddr")->required();
  c_ident->add_option("--timeout-ms", ident.timeout_ms, "Give up after this many ms")->capture_default_str();

  PerfOptions perf;
  auto* c_perf = app.add_subcommand("perf", "Measure throughput with /perf/1.0.0; prints one JSON line");
  c_perf->add_option("multiaddr", perf.addr, "Peer multiaddr")->required();
  c_perf->add_option("--upload", perf.upload, "Bytes to send")->required();
  c_perf->add_option("--download", perf.download, "Bytes to receive")->required();

  const std::string data_dir_help = "Node data directory (holds warehouse.duckdb)";

  auto* c_import = app.add_subcommand("import", "Import data into the node's warehouse");
  c_import->require_subcommand(1);
  ImportWitvlietOptions iw;
  auto* c_iw = c_import->add_subcommand("witvliet", "Import the Witvliet et al. 2021 C. elegans connectomes");
  c_iw->add_option("dir", iw.dir, "The witvliet2021 data folder")->required()->check(CLI::ExistingDirectory);
  c_iw->add_option("--data-dir", iw.data_dir, data_dir_help)->capture_default_str();
  c_iw->add_option("--prefix", iw.prefix, "Dataset id prefix /<institution>/<collection>")->capture_default_str();
  c_iw->add_option("--datasets", iw.datasets, "Which datasets, e.g. 1,2,3 (default: all 8)")
      ->delimiter(',')
      ->check(CLI::Range(1, 8));
  c_iw->add_flag("--ontology-only", iw.ontology_only, "Import only the cell types and classes (ontology_term)");
  ImportCsvOptions ic;
  auto* c_ic = c_import->add_subcommand("csv", "Import a CSV/TSV or Parquet file into synapse, gap_junction or cell");
  c_ic->add_option("file", ic.file, "CSV, TSV or .parquet file")->required();
  c_ic->add_option("--table", ic.table, "synapse | gap_junction | cell")
      ->required()
      ->check(CLI::IsMember({"synapse", "gap_junction", "cell"}));
  c_ic->add_option("--dataset", ic.dataset, "Dataset id /<institution>/<collection>/<dataset>")->required();
  c_ic->add_option("--map", ic.map, "Column mapping col=source_column, comma-separated")->delimiter(',');
  c_ic->add_option("--delimiter", ic.delimiter, "Field delimiter (one character; \\t for TSV)")->capture_default_str();
  c_ic->add_option("--data-dir", ic.data_dir, data_dir_help)->capture_default_str();

  SqlOptions sql;
  auto* c_sql = app.add_subcommand("sql", "Run read-only SQL on the local warehouse");
  c_sql->add_option("query", sql.sql, "SQL over dataset, synapse, gap_junction, cell, ontology_term")->required();
  c_sql->add_option("--data-dir", sql.data_dir, data_dir_help)->capture_default_str();
  c_sql->add_option("--format", sql.format, "table | csv | json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json"}));

  DatasetOptions ds;
  auto* c_ds = app.add_subcommand("dataset", "List datasets, or show one");
  c_ds->require_subcommand(1);
  auto* c_ds_list = c_ds->add_subcommand("list", "Datasets with row counts");
  c_ds_list->add_option("--data-dir", ds.data_dir, data_dir_help)->capture_default_str();
  auto* c_ds_show = c_ds->add_subcommand("show", "One dataset's metadata and row counts, as JSON");
  c_ds_show->add_option("id", ds.id, "Dataset id")->required();
  c_ds_show->add_option("--data-dir", ds.data_dir, data_dir_help)->capture_default_str();

  WarehouseOptions wh;
  auto* c_wh = app.add_subcommand("warehouse", "Warehouse schema");
  c_wh->require_subcommand(1);
  auto* c_wh_version = c_wh->add_subcommand("version", "Print the schema version");
  c_wh_version->add_option("--data-dir", wh.data_dir, data_dir_help)->capture_default_str();
  auto* c_wh_migrate = c_wh->add_subcommand("migrate", "Apply pending migrations; print the new version");
  c_wh_migrate->add_option("--data-dir", wh.data_dir, data_dir_help)->capture_default_str();

  GenSyntheticOptions gen;
  auto* c_gen = app.add_subcommand("gen", "Generate data");
  c_gen->require_subcommand(1);
  auto* c_gen_syn = c_gen->add_subcommand("synthetic", "Synthetic synapse data with the SynDB schema, for scale tests");
  c_gen_syn->add_option("--rows", gen.rows, "Synapse rows")->capture_default_str()->check(CLI::NonNegativeNumber);
  c_gen_syn->add_option("--datasets", gen.datasets, "Datasets to spread them over")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  c_gen_syn->add_option("--seed", gen.seed, "Random seed")->capture_default_str();
  c_gen_syn->add_option("--prefix", gen.prefix, "Dataset id prefix")->capture_default_str();
  c_gen_syn->add_option("--data-dir", gen.data_dir, data_dir_help)->capture_default_str();
  c_gen_syn->add_option("--csv", gen.csv, "Write synapse rows to this CSV file instead of a warehouse");

  DemoOptions demo;
  auto* c_demo = app.add_subcommand("demo", "Run a federation on loopback: a hub and three nodes holding the real "
                                            "connectome data, and show it");
  c_demo->add_flag("--keep", demo.keep, "Keep the federation running until SIGINT/SIGTERM");
  c_demo->add_option("--data", demo.data, "The witvliet2021 data folder");
  c_demo->add_option("--dir", demo.dir, "Directory for keys, warehouses and logs (kept)");
  c_demo->add_option("--http-port", demo.http_port, "Hub HTTP port (0 = any free port)")->capture_default_str();
  c_demo->add_option("--flight-sql-port", demo.flight_sql_port, "Hub Flight SQL port (0 = any free port)")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (auto& ch : msg) if (ch == '\n') ch = ' ';
    std::fprintf(stderr, "syndb: %s (see syndb --help)\n", msg.c_str());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (c_keygen->parsed()) return run_keygen(keygen);
  if (c_id->parsed()) return run_id(id_key);
  for (auto [cmd, opts] : {std::pair{c_node, &node}, {c_hub, &hub}}) {
    if (!cmd->parsed()) continue;
    if (!opts->config.empty()) {
      std::set<std::string> given;
      for (const CLI::Option* opt : cmd->get_options()) {
        if (opt->count() > 0) given.insert(opt->get_single_name());
      }
      syndb::Status st = load_node_config(opts->config, *opts, given);
      if (!st.ok()) {
        std::fprintf(stderr, "syndb: %s\n", st.error().message().c_str());
        return 2;
      }
    }
    return run_node(*opts);
  }
  if (c_fed_status->parsed() || c_fed_init->parsed() || c_fed_admit->parsed()) {
    fed.action = c_fed_status->parsed() ? "status" : c_fed_init->parsed() ? "init" : "admit";
    return run_federation(fed);
  }
  if (c_token_create->parsed()) return run_token_create(token);
  if (c_query->parsed()) return run_query(q);
  if (c_ping->parsed()) return run_ping(ping);
  if (c_ident->parsed()) return run_identify(ident);
  if (c_perf->parsed()) return run_perf(perf);
  if (c_demo->parsed()) return run_demo(demo);
  if (c_iw->parsed()) return run_import_witvliet(iw);
  if (c_ic->parsed()) {
    if (ic.delimiter == "\\t") ic.delimiter = "\t";
    return run_import_csv(ic);
  }
  if (c_sql->parsed()) return run_sql(sql);
  if (c_ds_list->parsed()) {
    ds.action = "list";
    return run_dataset(ds);
  }
  if (c_ds_show->parsed()) {
    ds.action = "show";
    return run_dataset(ds);
  }
  if (c_wh_version->parsed() || c_wh_migrate->parsed()) {
    wh.action = c_wh_migrate->parsed() ? "migrate" : "version";
    return run_warehouse(wh);
  }
  if (c_gen_syn->parsed()) return run_gen_synthetic(gen);
  return 2;
}
