#include "federation/metastore.h"

#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace syndb::federation {
namespace {

// Numbered migrations; migration i+1 is kMigrations[i]. Append only.
const char* const kMigrations[] = {
    // 1: health transitions (audit log).
    "CREATE TABLE health_events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  unix_ms INTEGER NOT NULL,"
    "  peer_id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  from_state TEXT NOT NULL,"
    "  to_state TEXT NOT NULL,"
    "  reason TEXT NOT NULL);"
    "CREATE INDEX health_events_time ON health_events (unix_ms, id);"
    "CREATE INDEX health_events_peer ON health_events (peer_id, unix_ms, id);",
    // 2: full-text index over dataset metadata. peer_id and policy are kept
    // but not indexed (so a search for "public" does not match every row).
    "CREATE VIRTUAL TABLE dataset_fts USING fts5("
    "  id, title, institution, species, stage, method, doi, citation,"
    "  peer_id UNINDEXED, policy UNINDEXED,"
    "  tokenize = 'unicode61 remove_diacritics 2');",
    // 3: API tokens, by SHA-256 hash only.
    "CREATE TABLE api_tokens ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  label TEXT NOT NULL,"
    "  token_sha256 BLOB NOT NULL UNIQUE,"
    "  created_unix_ms INTEGER NOT NULL);",
};
constexpr int kLatestVersion = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

// bm25 column weights, in dataset_fts column order (unindexed columns last).
constexpr const char* kBm25 = "bm25(dataset_fts, 2.0, 10.0, 3.0, 3.0, 5.0, 2.0, 1.0, 1.0, 0.0, 0.0)";

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error sqlite_error(sqlite3* db, const std::string& what) {
  return Error(ErrorCode::kIo, "metastore: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// A prepared statement, finalised on destruction.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  static Result<Stmt*> prepare(sqlite3* db, const std::string& sql, Stmt* out) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &out->stmt_, nullptr) != SQLITE_OK) {
      return sqlite_error(db, "prepare");
    }
    out->db_ = db;
    return out;
  }
  void bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind_blob(int i, const unsigned char* p, size_t n) {
    sqlite3_bind_blob(stmt_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
  }
  // True when a row is available, false when done.
  Result<bool> step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(db_, "step");
  }
  Status run() {
    auto r = step();
    if (!r.ok()) return r.error();
    return ok_status();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  int64_t int64(int col) { return sqlite3_column_int64(stmt_, col); }
  double real(int col) { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

Status exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Error(ErrorCode::kIo, "metastore: " + msg);
  }
  return ok_status();
}

// BEGIN IMMEDIATE … COMMIT, rolled back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) (void)exec(db_, "ROLLBACK");
  }
  Status begin() {
    SYNDB_RETURN_IF_ERROR(exec(db_, "BEGIN IMMEDIATE"));
    open_ = true;
    return ok_status();
  }
  Status commit() {
    SYNDB_RETURN_IF_ERROR(exec(db_, "COMMIT"));
    open_ = false;
    return ok_status();
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

bool is_token_char(unsigned char c) { return c >= 0x80 || std::isalnum(c); }

std::string sha256(const std::string& data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

}  // namespace

std::string fts5_query_from_user_input(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start) break;
    std::string word = text.substr(start, i - start);
    if (std::any_of(word.begin(), word.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); })) {
      words.push_back(std::move(word));
    }
  }
  std::string out;
  for (size_t w = 0; w < words.size(); ++w) {
    if (w) out += ' ';
    out += '"';
    for (char c : words[w]) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
    if (w + 1 == words.size()) out += '*';
  }
  return out;
}

Result<std::unique_ptr<Metastore>> Metastore::open(const std::string& path) {
  if (sodium_init() < 0) return Error(ErrorCode::kInternal, "metastore: libsodium failed to initialise");
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e(ErrorCode::kIo, "metastore: open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<Metastore> store(new Metastore(db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  // WAL: readers do not block the writer; an in-memory database stays "memory".
  auto pragmas = exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
  if (!pragmas.ok()) return pragmas.error().wrap(path);
  std::lock_guard<std::mutex> lock(store->mu_);
  auto migrated = store->migrate_locked();
  if (!migrated.ok()) return migrated.error().wrap(path);
  return store;
}

Metastore::~Metastore() { sqlite3_close(db_); }

Status Metastore::migrate_locked() {
  SYNDB_RETURN_IF_ERROR(exec(db_,
                             "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "  version INTEGER PRIMARY KEY,"
                             "  applied_unix_ms INTEGER NOT NULL)"));
  int current = 0;
  {
    Stmt st;
    SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &st));
    SYNDB_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) current = static_cast<int>(st.int64(0));
  }
  if (current > kLatestVersion) {
    return Error(ErrorCode::kUnsupported, "metastore schema version " + std::to_string(current) +
                                              " is newer than this build knows (" + std::to_string(kLatestVersion) +
                                              ")");
  }
  for (int v = current + 1; v <= kLatestVersion; ++v) {
    Transaction tx(db_);
    SYNDB_RETURN_IF_ERROR(tx.begin());
    auto applied = exec(db_, kMigrations[v - 1]);
    if (!applied.ok()) return applied.error().wrap("migration " + std::to_string(v));
    Stmt st;
    SYNDB_RETURN_IF_ERROR(
        Stmt::prepare(db_, "INSERT INTO schema_migrations (version, applied_unix_ms) VALUES (?, ?)", &st));
    st.bind(1, static_cast<int64_t>(v));
    st.bind(2, now_unix_ms());
    SYNDB_RETURN_IF_ERROR(st.run());
    SYNDB_RETURN_IF_ERROR(tx.commit());
  }
  return ok_status();
}

Result<int> Metastore::schema_version() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &st));
  SYNDB_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? static_cast<int>(st.int64(0)) : 0;
}

Status Metastore::record_transition(const std::string& peer_id, const std::string& name, HealthState from,
                                    HealthState to, const std::string& reason, int64_t unix_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_,
                                      "INSERT INTO health_events (unix_ms, peer_id, name, from_state, to_state, "
                                      "reason) VALUES (?, ?, ?, ?, ?, ?)",
                                      &st));
  st.bind(1, unix_ms);
  st.bind(2, peer_id);
  st.bind(3, name);
  st.bind(4, std::string(health_state_name(from)));
  st.bind(5, std::string(health_state_name(to)));
  st.bind(6, reason);
  return st.run();
}

Result<std::vector<HealthEvent>> Metastore::health_events(int limit, const std::string& peer_id_filter) {
  if (limit <= 0) limit = 100;
  limit = std::min(limit, 10000);
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  std::string sql = "SELECT id, unix_ms, peer_id, name, from_state, to_state, reason FROM health_events ";
  if (!peer_id_filter.empty()) sql += "WHERE peer_id = ?2 ";
  sql += "ORDER BY unix_ms DESC, id DESC LIMIT ?1";
  SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_, sql, &st));
  st.bind(1, static_cast<int64_t>(limit));
  if (!peer_id_filter.empty()) st.bind(2, peer_id_filter);
  std::vector<HealthEvent> out;
  for (;;) {
    SYNDB_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(HealthEvent{st.int64(0), st.int64(1), st.text(2), st.text(3), st.text(4), st.text(5), st.text(6)});
  }
  return out;
}

Status Metastore::index_datasets(const std::string& peer_id, const std::vector<DatasetEntry>& datasets) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  SYNDB_RETURN_IF_ERROR(tx.begin());
  {
    Stmt del;
    SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_, "DELETE FROM dataset_fts WHERE peer_id = ?", &del));
    del.bind(1, peer_id);
    SYNDB_RETURN_IF_ERROR(del.run());
  }
  Stmt ins;
  SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_,
                                      "INSERT INTO dataset_fts (id, title, institution, species, stage, method, doi, "
                                      "citation, peer_id, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      &ins));
  for (const auto& d : datasets) {
    ins.reset();
    ins.bind(1, d.id);
    ins.bind(2, d.title);
    ins.bind(3, d.institution);
    ins.bind(4, d.species);
    ins.bind(5, d.stage);
    ins.bind(6, d.method);
    ins.bind(7, d.doi);
    ins.bind(8, d.citation);
    ins.bind(9, peer_id);
    ins.bind(10, d.policy);
    auto r = ins.run();
    if (!r.ok()) return r.error().wrap("index dataset " + d.id);
  }
  return tx.commit();
}

Result<std::vector<DatasetHit>> Metastore::search_datasets(const std::string& query, int limit) {
  if (limit <= 0) limit = 50;
  limit = std::min(limit, 1000);
  std::string match = fts5_query_from_user_input(query);
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  if (match.empty()) {
    SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_,
                                        "SELECT peer_id, id, title, stage, policy, title, 0.0 FROM dataset_fts "
                                        "ORDER BY peer_id, id LIMIT ?1",
                                        &st));
  } else {
    std::string sql = std::string(
                          "SELECT peer_id, id, title, stage, policy, "
                          "snippet(dataset_fts, -1, '[', ']', '…', 16), -") +
                      kBm25 + " AS score FROM dataset_fts WHERE dataset_fts MATCH ?2 ORDER BY " + kBm25 +
                      ", peer_id, id LIMIT ?1";
    SYNDB_RETURN_IF_ERROR(Stmt::prepare(db_, sql, &st));
    st.bind(2, match);
  }
  st.bind(1, static_cast<int64_t>(limit));
  std::vector<DatasetHit> out;
  for (;;) {
    auto row = st.step();
    if (!row.ok()) return row.error().wrap("search " + match);
    if (!*row) break;
    out.push_back(DatasetHit{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5), st.real(6)});
  }
  return out;
}

Result<std::string> Metastore::create_token(const std::string& label) {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  std::string token(hex, sizeof raw * 2);
  sodium_memzero(hex, sizeof hex);
  std::string hash = sha256(token);
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  SYNDB_RETURN_IF_ERROR(
      Stmt::prepare(db_, "INSERT INTO api_tokens (label, token_sha256, created_unix_ms) VALUES (?, ?, ?)", &st));
  st.bind(1, label);
  st.bind_blob(2, reinterpret_cast<const unsigned char*>(hash.data()), hash.size());
  st.bind(3, now_unix_ms());
  SYNDB_RETURN_IF_ERROR(st.run());
  return token;
}

bool Metastore::check_token(const std::string& token) {
  if (token.empty()) return false;
  std::string hash = sha256(token);
  std::lock_guard<std::mutex> lock(mu_);
  Stmt st;
  if (!Stmt::prepare(db_, "SELECT 1 FROM api_tokens WHERE token_sha256 = ?", &st).ok()) return false;
  st.bind_blob(1, reinterpret_cast<const unsigned char*>(hash.data()), hash.size());
  auto row = st.step();
  return row.ok() && *row;
}

}  // namespace syndb::federation
