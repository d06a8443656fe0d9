// The federated planner (query/planner.h) on its own: what each node is
// asked to run (fragments), what the hub finishes, and what is refused.
#include "query/planner.h"

#include <gtest/gtest.h>

#include "warehouse/schema.h"
#include "warehouse/warehouse.h"

namespace syndb::query {
namespace {

class PlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = warehouse::open_duckdb(":memory:");
    ASSERT_TRUE(w.ok());
    wh_ = std::move(w).value();
    ASSERT_TRUE(wh_->migrate(warehouse::latest_schema_version()).ok());
    for (const auto& t : warehouse::data_tables()) {
      auto s = wh_->query_schema(std::string("SELECT * FROM ") + t.name);
      ASSERT_TRUE(s.ok());
      for (int64_t i = 0; i < s->get()->n_children; ++i) columns_[t.name].push_back(s->get()->children[i]->name);
    }
    auto aggs =
        wh_->query_text("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'");
    ASSERT_TRUE(aggs.ok());
    for (const auto& r : aggs->rows) aggregates_.insert(r[0].value_or(""));
  }

  Result<Plan> plan(const std::string& sql) {
    PlannerInput in;
    in.sql = sql;
    in.table_columns = columns_;
    in.aggregate_functions = aggregates_;
    in.view_prefix = "syndb_qtest_";
    auto schema = wh_->query_schema(sql);
    if (schema.ok()) {
      for (int64_t i = 0; i < schema->get()->n_children; ++i)
        in.output_names.push_back(schema->get()->children[i]->name);
    }
    return plan_query(*wh_, in);
  }

  std::unique_ptr<warehouse::Warehouse> wh_;
  std::map<std::string, std::vector<std::string>> columns_;
  std::set<std::string> aggregates_;
};

TEST_F(PlannerTest, ProjectionAndFilterArePushedDown) {
  auto p = plan("SELECT pre, post FROM synapse WHERE size > 1000 AND dataset_id = '/a/b/c'");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  ASSERT_EQ(p->scans.size(), 1u);
  const auto& f = p->scans[0].fragment_sql;
  EXPECT_NE(f.find("pre"), std::string::npos) << f;
  EXPECT_NE(f.find("size"), std::string::npos) << f;
  EXPECT_EQ(f.find("sections"), std::string::npos) << "an unused column was fetched: " << f;
  EXPECT_NE(f.find("1000"), std::string::npos) << "the filter was not pushed: " << f;
  EXPECT_FALSE(p->scans[0].dataset_filter_sql.empty()) << "the dataset predicate should select nodes";
  EXPECT_NE(p->final_sql.find("syndb_qtest_synapse"), std::string::npos) << p->final_sql;
  EXPECT_FALSE(p->partial_aggregate);
}

TEST_F(PlannerTest, SingleTableAggregateIsSplitIntoPartials) {
  auto p = plan("SELECT dataset_id, count(*) AS n, avg(size) AS s FROM synapse GROUP BY dataset_id");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_TRUE(p->partial_aggregate);
  ASSERT_EQ(p->scans.size(), 1u);
  // avg is shipped as sum and count, finished at the hub.
  EXPECT_NE(p->scans[0].fragment_sql.find("sum"), std::string::npos) << p->scans[0].fragment_sql;
  EXPECT_NE(p->scans[0].fragment_sql.find("count"), std::string::npos) << p->scans[0].fragment_sql;
}

TEST_F(PlannerTest, SelfJoinIsMaterialisedOnce) {
  auto p = plan("SELECT a.pre FROM synapse a JOIN synapse b ON a.pre = b.post");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  ASSERT_EQ(p->scans.size(), 1u);
  EXPECT_TRUE(p->scans[0].materialize) << "a stream can be read once; a self-join reads the table twice";
}

TEST_F(PlannerTest, OntologyTermIsAWholeDeduplicatedUnion) {
  auto p = plan("SELECT kind, count(*) AS n FROM ontology_term GROUP BY kind");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_FALSE(p->partial_aggregate) << "copies overlap: counting at the nodes would count a term once per copy";
  ASSERT_EQ(p->scans.size(), 1u);
  EXPECT_TRUE(p->scans[0].distinct);
  EXPECT_TRUE(p->scans[0].materialize);
  for (const char* col : {"id", "label", "parent_id", "kind"}) {
    EXPECT_NE(p->scans[0].fragment_sql.find(col), std::string::npos) << col << ": " << p->scans[0].fragment_sql;
  }
}

TEST_F(PlannerTest, RefusesWhatCannotBeFederated) {
  for (const char* bad :
       {"DELETE FROM synapse", "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM main.synapse",
        "WITH synapse AS (SELECT 1) SELECT * FROM synapse", "SELECT * FROM no_such_table", "SELECT 1; SELECT 2"}) {
    auto p = plan(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument) << bad << ": " << p.error().to_string();
    }
  }
}

}  // namespace
}  // namespace syndb::query
