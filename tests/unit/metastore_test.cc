// Metastore (SQLite) tests: migrations, health transitions, FTS5 dataset
// search with hostile queries, API tokens stored only as hashes.
#include "federation/metastore.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "test_fs.h"

namespace syndb::federation {
namespace {

namespace fs = std::filesystem;

class MetastoreTest : public test_support::TempDirTest {
 protected:
  MetastoreTest() : TempDirTest("syndb_meta_test_") {}

  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    TempDirTest::TearDown();
  }
  std::string db_path() const { return dir_ + "/hub.sqlite"; }
  std::unique_ptr<Metastore> open() {
    auto m = Metastore::open(db_path());
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().to_string());
    return m.ok() ? std::move(m).value() : nullptr;
  }
  // Every byte SQLite wrote: the database file and its WAL.
  std::string db_bytes() const {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(db_path() + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  std::unique_ptr<Metastore> store_;
};

DatasetEntry dataset(std::string id, std::string title, std::string stage, std::string citation = "",
                     std::string policy = "public") {
  DatasetEntry d;
  d.id = std::move(id);
  d.title = std::move(title);
  d.stage = std::move(stage);
  d.citation = std::move(citation);
  d.policy = std::move(policy);
  d.institution = "University of Toronto";
  d.species = "Caenorhabditis elegans";
  d.method = "serial-section electron microscopy";
  d.doi = "10.1038/s41586-021-03778-8";
  return d;
}

TEST_F(MetastoreTest, MigrationsAreNumberedAndIdempotent) {
  auto v = store_->schema_version();
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(*v, 3);
  ASSERT_TRUE(store_->record_transition("p", "n", HealthState::kUnknown, HealthState::kHealthy, "ok", 1).ok());
  store_.reset();
  store_ = open();  // reopening applies nothing and keeps the data
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(*store_->schema_version(), 3);
  EXPECT_EQ(store_->health_events(10)->size(), 1u);
  EXPECT_TRUE(fs::exists(db_path() + "-wal")) << "WAL mode";
}

TEST_F(MetastoreTest, TransitionsAreListedNewestFirst) {
  ASSERT_TRUE(store_
                  ->record_transition("peerA", "alpha", HealthState::kUnknown, HealthState::kHealthy,
                                      "ping answered in 120 us", 1000)
                  .ok());
  ASSERT_TRUE(store_
                  ->record_transition("peerB", "beta", HealthState::kUnknown, HealthState::kDegraded,
                                      "slow: rtt 300 ms > 250 ms", 2000)
                  .ok());
  ASSERT_TRUE(store_
                  ->record_transition("peerA", "alpha", HealthState::kHealthy, HealthState::kUnreachable,
                                      "3 consecutive failures: timeout", 3000)
                  .ok());
  // Same timestamp as the previous one: insertion order breaks the tie.
  ASSERT_TRUE(store_
                  ->record_transition("peerA", "alpha", HealthState::kUnreachable, HealthState::kHealthy,
                                      "half-open probe answered", 3000)
                  .ok());

  auto all = store_->health_events(10);
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].reason, "half-open probe answered");
  EXPECT_EQ((*all)[0].from, "Unreachable");
  EXPECT_EQ((*all)[0].to, "Healthy");
  EXPECT_EQ((*all)[1].to, "Unreachable");
  EXPECT_EQ((*all)[1].unix_ms, 3000);
  EXPECT_EQ((*all)[2].peer_id, "peerB");
  EXPECT_EQ((*all)[2].name, "beta");
  EXPECT_EQ((*all)[2].to, "Degraded");
  EXPECT_EQ((*all)[3].from, "Unknown");
  EXPECT_GT((*all)[0].id, (*all)[1].id);

  auto two = store_->health_events(2);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].id, (*all)[0].id);

  auto b = store_->health_events(10, "peerB");
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].reason, "slow: rtt 300 ms > 250 ms");
  EXPECT_TRUE(store_->health_events(10, "nobody")->empty());
}

TEST(Fts5Query, QuotesEveryWordAndPrefixesTheLast) {
  EXPECT_EQ(fts5_query_from_user_input(""), "");
  EXPECT_EQ(fts5_query_from_user_input("   \t "), "");
  EXPECT_EQ(fts5_query_from_user_input("L1"), "\"L1\"*");
  EXPECT_EQ(fts5_query_from_user_input("adult  connectome"), "\"adult\" \"connectome\"*");
  EXPECT_EQ(fts5_query_from_user_input("say \"hi\""), "\"say\" \"\"\"hi\"\"\"*");
  EXPECT_EQ(fts5_query_from_user_input("a OR b"), "\"a\" \"OR\" \"b\"*");
  EXPECT_EQ(fts5_query_from_user_input("* - ( ) \" x"), "\"x\"*");
}

class MetastoreSearchTest : public MetastoreTest {
 protected:
  void SetUp() override {
    MetastoreTest::SetUp();
    ASSERT_TRUE(
        store_
            ->index_datasets("peerA", {dataset("/toronto/witvliet2021/dataset1", "L1 larva connectome, 0 hours", "L1"),
                                       dataset("/toronto/witvliet2021/dataset2", "L1 larva connectome, 5 hours", "L1"),
                                       dataset("/toronto/witvliet2021/dataset8", "Adult connectome", "adult",
                                               "Witvliet et al. 2021, Nature")})
            .ok());
    ASSERT_TRUE(store_
                    ->index_datasets("peerB", {dataset("/harvard/cook2019/herm", "Hermaphrodite whole-animal wiring",
                                                       "adult", "Cook et al. 2019 (mentions L1 once)", "members"),
                                               dataset("/harvard/cook2019/male", "Male whole-animal wiring", "adult",
                                                       "Cook et al. 2019", "aggregate_only(5)")})
                    .ok());
  }
  std::vector<DatasetHit> search(const std::string& q, int limit = 50) {
    auto r = store_->search_datasets(q, limit);
    EXPECT_TRUE(r.ok()) << "query " << q << ": " << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : std::vector<DatasetHit>{};
  }
  static std::set<std::string> ids(const std::vector<DatasetHit>& hits) {
    std::set<std::string> out;
    for (const auto& h : hits) out.insert(h.id);
    return out;
  }
};

TEST_F(MetastoreSearchTest, FindsByStageAndTitleWordsAndRanks) {
  auto l1 = search("L1");
  ASSERT_EQ(l1.size(), 3u);
  // Both L1 datasets (stage and title) rank above the one that mentions L1 only in its citation.
  EXPECT_EQ(ids({l1[0], l1[1]}),
            (std::set<std::string>{"/toronto/witvliet2021/dataset1", "/toronto/witvliet2021/dataset2"}));
  EXPECT_EQ(l1[2].id, "/harvard/cook2019/herm");
  EXPECT_GT(l1[0].rank, l1[2].rank);
  EXPECT_EQ(l1[0].peer_id, "peerA");
  EXPECT_EQ(l1[0].stage, "L1");
  EXPECT_EQ(l1[0].policy, "public");
  EXPECT_NE(l1[0].snippet.find("[L1]"), std::string::npos) << l1[0].snippet;
  EXPECT_EQ(l1[2].policy, "members");

  // Words of the title, any case; the last word is a prefix.
  EXPECT_EQ(ids(search("whole-animal wiring")),
            (std::set<std::string>{"/harvard/cook2019/herm", "/harvard/cook2019/male"}));
  EXPECT_EQ(ids(search("MALE wir")), (std::set<std::string>{"/harvard/cook2019/male"}));
  EXPECT_EQ(ids(search("conn")).size(), 3u);
  EXPECT_EQ(ids(search("adult connectome")), (std::set<std::string>{"/toronto/witvliet2021/dataset8"}));
  EXPECT_TRUE(search("zebrafish").empty());
  // peer_id and policy are stored, not searched.
  EXPECT_TRUE(search("peerA").empty());
  EXPECT_TRUE(search("aggregate_only").empty());

  EXPECT_EQ(search("").size(), 5u);  // everything
  EXPECT_EQ(search("", 2).size(), 2u);
  EXPECT_EQ(search("connectome", 1).size(), 1u);
}

TEST_F(MetastoreSearchTest, HostileQueriesNeverBreakTheQuery) {
  const char* hostile[] = {
      "\"",
      "\"\"",
      "\"L1",
      "L1\"",
      "'",
      "' OR 1=1 --",
      "'; DROP TABLE dataset_fts; --",
      "*",
      "L1*",
      "NEAR(L1 adult)",
      "title:L1",
      "-L1",
      "^L1",
      "(L1",
      ")",
      "L1 AND",
      "OR",
      "NOT",
      "AND OR NOT",
      "{title stage}: L1",
      "L1 + adult",
      "\\",
      "%",
      "_",
      "L1\x01\x7f",
      "日本語",
      "\xff\xfe",
      "—",
      "L1 —",
      "a\"b\"c",
      "\"\"\"\"\"",
  };
  for (const char* q : hostile) {
    auto r = store_->search_datasets(q, 50);
    EXPECT_TRUE(r.ok()) << "query [" << q << "]: " << (r.ok() ? "" : r.error().to_string());
  }
  // Operators are plain words: "L1 AND" means the words L1 and AND*.
  EXPECT_TRUE(search("L1 AND").empty());
  // A word's quotes and punctuation do not hide the word.
  EXPECT_EQ(search("\"L1\"").size(), 3u);
  EXPECT_EQ(search("title:L1").size(), 0u);  // one phrase "title L1", which no dataset holds
  // Nothing searchable: everything.
  EXPECT_EQ(search("* ( ) \"").size(), 5u);
  // The index is intact afterwards.
  EXPECT_EQ(search("L1").size(), 3u);
}

TEST_F(MetastoreSearchTest, ReindexReplacesOnlyThatPeer) {
  ASSERT_TRUE(store_->index_datasets("peerA", {dataset("/toronto/new/d1", "Dauer larva", "dauer")}).ok());
  EXPECT_EQ(search("").size(), 3u);
  EXPECT_EQ(ids(search("L1")), (std::set<std::string>{"/harvard/cook2019/herm"}));
  EXPECT_EQ(ids(search("dauer")), (std::set<std::string>{"/toronto/new/d1"}));
  ASSERT_TRUE(store_->index_datasets("peerB", {}).ok());
  EXPECT_EQ(search("").size(), 1u);
}

TEST_F(MetastoreTest, TokensAreCheckedAndStoredOnlyAsHashes) {
  auto token = store_->create_token("ci");
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  ASSERT_EQ(token->size(), 64u);
  EXPECT_EQ(token->find_first_not_of("0123456789abcdef"), std::string::npos);
  auto other = store_->create_token("ops");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*token, *other);

  EXPECT_TRUE(store_->check_token(*token));
  EXPECT_TRUE(store_->check_token(*other));
  std::string wrong = *token;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(store_->check_token(wrong));
  EXPECT_FALSE(store_->check_token(""));
  EXPECT_FALSE(store_->check_token(token->substr(0, 63)));
  EXPECT_FALSE(store_->check_token(*token + "0"));

  // The files hold the SHA-256 of the token, never the token itself (nor its raw bytes).
  std::string bytes = db_bytes();
  ASSERT_FALSE(bytes.empty());
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(token->data()), token->size());
  EXPECT_NE(bytes.find(std::string(reinterpret_cast<const char*>(hash), sizeof hash)), std::string::npos)
      << "the hash should be what is stored (are we reading the right file?)";
  EXPECT_EQ(bytes.find(*token), std::string::npos);
  unsigned char raw[32];
  ASSERT_EQ(sodium_hex2bin(raw, sizeof raw, token->data(), token->size(), nullptr, nullptr, nullptr), 0);
  EXPECT_EQ(bytes.find(std::string(reinterpret_cast<const char*>(raw), sizeof raw)), std::string::npos);

  // Tokens survive a reopen.
  store_.reset();
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_TRUE(store_->check_token(*token));
  EXPECT_FALSE(store_->check_token(wrong));
}

TEST(MetastoreOpen, UnopenablePathIsAnIoError) {
  auto m = Metastore::open("/nonexistent-dir-syndb/x/hub.sqlite");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kIo);
}

TEST(MetastoreOpen, InMemoryWorks) {
  auto m = Metastore::open(":memory:");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ASSERT_TRUE((*m)->index_datasets("p", {dataset("/x/y", "Title", "L2")}).ok());
  EXPECT_EQ((*m)->search_datasets("L2", 10)->size(), 1u);
}

}  // namespace
}  // namespace syndb::federation
