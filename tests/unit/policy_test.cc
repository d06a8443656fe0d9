// Dataset policies at the owning node (federation/policy.h): private never
// leaves, members only to admitted peers, aggregate_only(k) only aggregates
// over groups of at least k rows; fragments may not escape the narrowing.
#include "federation/policy.h"

#include <gtest/gtest.h>

#include "warehouse/schema.h"

namespace syndb::federation {
namespace {

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = warehouse::open_duckdb(":memory:");
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    wh_ = std::move(w).value();
    ASSERT_TRUE(wh_->migrate(warehouse::latest_schema_version()).ok());
    ASSERT_TRUE(wh_->execute(R"sql(
      INSERT INTO dataset (id, title, institution, policy, policy_k) VALUES
        ('/x/pub', 'p', 'X', 'public', NULL), ('/x/mem', 'm', 'X', 'members', NULL),
        ('/x/priv', 'v', 'X', 'private', NULL);
      INSERT INTO synapse (dataset_id, synapse_id, pre, post) VALUES
        ('/x/pub', 1, 'A', 'B'), ('/x/pub', 2, 'A', 'C'), ('/x/mem', 3, 'A', 'B'),
        ('/x/priv', 4, 'A', 'B'), ('/x/priv', 5, 'Z', 'B');)sql")
                    .ok());
    auto c = wh_->connect(true);
    ASSERT_TRUE(c.ok());
    untrusted_ = std::move(c).value();
  }

  // The datasets a fragment's narrowed SQL returns, sorted and joined.
  std::string Datasets(const std::string& fragment, bool admitted) {
    auto sql = apply_policy(*untrusted_, fragment, admitted);
    if (!sql.ok()) return "error: " + sql.error().message();
    auto r = untrusted_->query_text("SELECT string_agg(DISTINCT dataset_id, ',' ORDER BY dataset_id) FROM (" + *sql + ")");
    if (!r.ok()) return "error: " + r.error().message();
    return r->rows[0][0].value_or("");
  }

  void AddAggregateOnly(int k) {
    ASSERT_TRUE(wh_->execute("INSERT INTO dataset (id, title, institution, policy, policy_k) VALUES ('/x/agg', 'a', 'X', "
                             "'aggregate_only', " + std::to_string(k) + ");"
                             "INSERT INTO synapse (dataset_id, synapse_id, pre, post) VALUES ('/x/agg', 10, 'A', 'B'), "
                             "('/x/agg', 11, 'A', 'B'), ('/x/agg', 12, 'A', 'B'), ('/x/agg', 13, 'Q', 'B')")
                    .ok());
  }

  std::unique_ptr<warehouse::Warehouse> wh_, untrusted_;
};

TEST_F(PolicyTest, PrivateNeverLeavesAndMembersOnlyToAdmittedPeers) {
  EXPECT_EQ(Datasets("SELECT dataset_id FROM synapse", false), "/x/pub");
  EXPECT_EQ(Datasets("SELECT dataset_id FROM synapse", true), "/x/mem,/x/pub");
  // Nested scopes and the fragment's own CTEs see the narrowed tables too.
  EXPECT_EQ(Datasets("WITH s AS (SELECT * FROM synapse) SELECT dataset_id FROM s WHERE pre = 'A'", true),
            "/x/mem,/x/pub");
  EXPECT_EQ(Datasets("WITH synapse AS (SELECT * FROM synapse) SELECT dataset_id FROM synapse", true), "/x/mem,/x/pub");
  auto ids = apply_policy(*untrusted_, "SELECT id FROM dataset ORDER BY id", true);
  ASSERT_TRUE(ids.ok());
  auto r = untrusted_->query_text(*ids);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 2u) << "the private dataset is not even listed";
}

TEST_F(PolicyTest, FragmentsCannotEscapeTheNarrowing) {
  for (const char* sql : {"SELECT * FROM main.synapse", "SELECT * FROM memory.main.synapse",
                          "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM query_table('synapse')",
                          "SELECT * FROM node_info", "DELETE FROM synapse", "SELECT 1; SELECT 2"}) {
    for (int attempt = 0; attempt < 2; ++attempt) {  // refusals are not remembered as checked
      auto r = apply_policy(*untrusted_, sql, true);
      ASSERT_FALSE(r.ok()) << sql;
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << sql << ": " << r.error().message();
    }
  }
}

TEST_F(PolicyTest, RepeatedFragmentFollowsTheCurrentPolicies) {
  // The parse of a fragment is remembered; the datasets' policies are not.
  EXPECT_EQ(Datasets("SELECT dataset_id FROM synapse WHERE pre = 'A'", false), "/x/pub");
  ASSERT_TRUE(wh_->execute("UPDATE dataset SET policy = 'private' WHERE id = '/x/pub'").ok());
  EXPECT_EQ(Datasets("SELECT dataset_id FROM synapse WHERE pre = 'A'", false), "");
  EXPECT_EQ(Datasets("SELECT dataset_id FROM synapse WHERE pre = 'A'", true), "/x/mem");
}

TEST_F(PolicyTest, AggregateOnlyAllowsLargeGroupsAndRefusesRowsAndSmallGroups) {
  AddAggregateOnly(3);
  auto rows = apply_policy(*untrusted_, "SELECT * FROM synapse", true);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(rows.error().message().find("/x/agg is aggregate_only(3)"), std::string::npos) << rows.error().message();

  // Group Q has 1 row (only in /x/agg); Z is private, so not counted.
  auto small = apply_policy(*untrusted_, "SELECT pre, count(*) FROM synapse GROUP BY pre", true);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(small.error().message().find("1 group(s) with fewer than 3 rows from aggregate_only datasets"),
            std::string::npos)
      << small.error().message();

  auto big = apply_policy(*untrusted_, "SELECT pre, count(*) AS n FROM synapse WHERE pre = 'A' GROUP BY pre", true);
  ASSERT_TRUE(big.ok()) << big.error().message();
  auto r = untrusted_->query_text(*big);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0][1], "6") << "2 public + 1 members + 3 aggregate_only rows; the private one excluded";

  EXPECT_TRUE(apply_policy(*untrusted_, "SELECT count(*), avg(synapse_id) FROM synapse", true).ok());
  // A column outside the aggregates reveals rows.
  EXPECT_FALSE(apply_policy(*untrusted_, "SELECT pre, count(*) FROM synapse GROUP BY post", true).ok());
}

TEST_F(PolicyTest, AggregateOnlyCountsOnlyItsOwnRowsPerGroup) {
  AddAggregateOnly(3);
  // Group post = 'B' holds 3 rows (public 1, members 3, aggregate_only 10),
  // but only one of them is protected: subtracting the readable rows would
  // reveal row 10. HAVING does not help, the group is still there to see.
  for (const char* sql : {"SELECT post, count(*), sum(synapse_id) FROM synapse WHERE synapse_id IN (1, 3, 10) GROUP BY post",
                          "SELECT post, count(*) FROM synapse WHERE synapse_id IN (1, 3, 10) GROUP BY post "
                          "HAVING count(*) >= 3"}) {
    auto r = apply_policy(*untrusted_, sql, true);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error().code(), ErrorCode::kPermissionDenied);
  }
  // Groups with no protected row are fine, whatever their size.
  auto pub = apply_policy(*untrusted_, "SELECT post, count(*) FROM synapse WHERE synapse_id IN (1, 2) GROUP BY post", true);
  ASSERT_TRUE(pub.ok()) << pub.error().message();
  auto r = untrusted_->query_text(*pub);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 2u);
}

}  // namespace
}  // namespace syndb::federation
