// Metastore: the hub's own small database (SQLite, embedded; ARCHITECTURE.md,
// hub). It keeps what the hub must remember across restarts or query with
// more than a lookup:
//   - health transitions of every node, for audit (issue 4, health monitor);
//   - a full-text index (FTS5, bm25 ranking) over the catalogue's dataset
//     metadata, for GET /v1/datasets?q=;
//   - API tokens, stored only as SHA-256 hashes.
// The schema is created by numbered migrations recorded in schema_migrations;
// the database runs in WAL mode.
//
// Thread-safety: every method may be called from any thread. One SQLite
// connection is shared and guarded by a mutex, so calls are serialised (they
// are short: single statements or one small transaction).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "federation/registry.h"

struct sqlite3;

namespace syndb::federation {

// One stored health transition. from/to are state names ("Healthy", …).
struct HealthEvent {
  int64_t id = 0, unix_ms = 0;
  std::string peer_id, name, from, to, reason;
};

// One full-text search result. rank is the bm25 relevance, negated so that
// larger is more relevant (0 for the match-everything empty query); snippet
// is a fragment of the best-matching column with matches in [brackets].
struct DatasetHit {
  std::string peer_id, id, title, stage, policy, snippet;
  double rank = 0;
};

// Turns free text from a user into an FTS5 MATCH expression that cannot be a
// syntax error: each whitespace-separated word becomes a quoted string (an
// embedded `"` doubled), the last one a prefix query (`"word"*`), all joined
// with implicit AND. Words with no letter or digit (pure ASCII punctuation)
// are dropped; the result is empty when no word remains.
std::string fts5_query_from_user_input(const std::string& text);

class Metastore {
 public:
  // Opens (creating when absent) the database at path (":memory:" for a
  // private in-memory one), switches it to WAL mode and applies pending
  // migrations. kIo when the file cannot be opened; kUnsupported when the
  // database was written by a newer build (a migration version we do not know).
  static Result<std::unique_ptr<Metastore>> open(const std::string& path);
  ~Metastore();
  Metastore(const Metastore&) = delete;
  Metastore& operator=(const Metastore&) = delete;

  // The highest applied migration.
  Result<int> schema_version();

  // Stores one health transition of a node.
  Status record_transition(const std::string& peer_id, const std::string& name, HealthState from, HealthState to,
                           const std::string& reason, int64_t unix_ms);
  // The latest transitions, newest first (by unix_ms, then insertion order);
  // only those of peer_id_filter when it is not empty. limit is clamped to
  // [1, 10000]; a limit <= 0 means 100.
  Result<std::vector<HealthEvent>> health_events(int limit, const std::string& peer_id_filter = "");

  // Replaces everything indexed for peer_id by `datasets` (one transaction;
  // an empty list removes the peer's datasets from the index).
  Status index_datasets(const std::string& peer_id, const std::vector<DatasetEntry>& datasets);
  // Full-text search over id, title, institution, species, stage, method,
  // doi and citation, best match first (bm25; title and stage weigh most).
  // The query is user text, see fts5_query_from_user_input; an empty query
  // (or one with no searchable word) returns every dataset, ordered by peer
  // and id. limit is clamped to [1, 1000]; <= 0 means 50.
  Result<std::vector<DatasetHit>> search_datasets(const std::string& query, int limit);

  // Creates an API token: 32 random bytes (libsodium), returned once as 64
  // lowercase hex characters. Only the SHA-256 of the token text is stored.
  Result<std::string> create_token(const std::string& label);
  // True when token was created by create_token (false on any error).
  bool check_token(const std::string& token);

 private:
  explicit Metastore(sqlite3* db) : db_(db) {}
  Status migrate_locked();

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace syndb::federation
