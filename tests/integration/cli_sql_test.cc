// `syndb sql --format json` (issue 21): every row is an object keyed by the
// query's own column names, whatever those names are — including the names
// the CLI's wrapper query used to use (`t`, `row`, `q`, `json`).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "process.h"
#include "test_fs.h"

namespace syndb {
namespace {

using itest::RunSyndb;
using nlohmann::json;

class CliSql : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("syndb_cli_sql_");
    auto r = RunSyndb({"warehouse", "migrate", "--data-dir", dir_ + "/d"});
    ASSERT_EQ(r.code, 0) << r.desc;
  }
  void TearDown() override { test_support::RemoveTree(dir_); }

  json Sql(const std::string& sql) {
    auto r = RunSyndb({"sql", "--data-dir", dir_ + "/d", "--format", "json", sql});
    EXPECT_EQ(r.code, 0) << r.desc;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.desc;
    return j;
  }

  std::string dir_;
};

TEST_F(CliSql, JsonRowsAreObjectsWhateverTheColumnsAreNamed) {
  for (const char* name : {"t", "row", "q", "json", "to_json", "n"}) {
    const std::string col = name;
    json got = Sql("SELECT 'b' AS \"" + col + "\", 2 AS other");
    EXPECT_EQ(got, json::parse(R"([{")" + col + R"(":"b","other":2}])")) << col;
  }
  // Several rows, a grouped query with an alias `t`, a trailing semicolon.
  json grouped =
      Sql("SELECT x % 2 AS t, count(*) AS n FROM range(5) r(x) "
          "GROUP BY ALL ORDER BY t;");
  EXPECT_EQ(grouped, json::parse(R"([{"t":0,"n":3},{"t":1,"n":2}])"));
  // Odd names survive as keys.
  EXPECT_EQ(Sql("SELECT 1 AS \"it's\", NULL AS \"a\"\"b\""), json::parse(R"([{"it's":1,"a\"b":null}])"));
}

TEST_F(CliSql, BadSqlIsOneLineAndExitOne) {
  auto r = RunSyndb({"sql", "--data-dir", dir_ + "/d", "--format", "json", "SELEC 1"});
  EXPECT_EQ(r.code, 1) << r.desc;
  EXPECT_NE(r.err.find("syntax"), std::string::npos) << r.desc;
}

}  // namespace
}  // namespace syndb
