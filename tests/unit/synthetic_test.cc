// Synthetic data (warehouse/synthetic.h): the requested shape, determinism
// by seed, a clean failure on a second run, and the CSV form.
#include "warehouse/synthetic.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_fs.h"
#include "warehouse/datasets.h"
#include "warehouse/import_csv.h"
#include "warehouse/schema.h"
#include "warehouse/warehouse.h"
#include "warehouse_test_util.h"

namespace syndb::warehouse {
namespace {

namespace fs = std::filesystem;
using test_support::count;
using test_support::ReadFile;
using test_support::scalar;

class SyntheticData : public test_support::TempDirTest {
 protected:
  SyntheticData() : TempDirTest("syndb_synthetic_test_") {}

  std::unique_ptr<Warehouse> open_migrated(const std::string& sub = "wh") {
    return test_support::open_migrated((fs::path(dir_) / sub).string());
  }
};

TEST_F(SyntheticData, GeneratesRequestedShape) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  SyntheticOptions o;
  o.rows = 10000;
  o.datasets = 3;
  o.seed = 7;
  auto n = generate_synthetic(*w, o);
  ASSERT_TRUE(n.ok()) << n.error().to_string();
  EXPECT_EQ(*n, 10000);
  EXPECT_EQ(count(*w, "SELECT count(*) FROM dataset"), 3);
  EXPECT_EQ(count(*w, "SELECT count(*) FROM dataset WHERE starts_with(id, '/synthetic/gen/')"), 3);
  EXPECT_EQ(count(*w, "SELECT count(*) FROM synapse"), 10000);
  EXPECT_EQ(count(*w, "SELECT count(*) FROM synapse WHERE dataset_id NOT IN (SELECT id FROM dataset)"), 0);
  EXPECT_EQ(count(*w, "SELECT count(DISTINCT dataset_id) FROM synapse"), 3);
  EXPECT_EQ(count(*w, "SELECT count(*) FROM synapse WHERE weight IS NULL OR weight <= 0 OR weight > 1"), 0);
  EXPECT_EQ(count(*w, "SELECT count(*) FROM synapse WHERE sections IS NULL OR sections < 1 OR sections > 30"), 0);
  EXPECT_EQ(count(*w, "SELECT count(*) FROM synapse WHERE size IS NULL OR size <= 0"), 0);
  // Weights of a synapse sum to at most 1 (a synapse's partners share the contact).
  EXPECT_EQ(count(*w,
                  "SELECT count(*) FROM (SELECT dataset_id, synapse_id, sum(weight) AS w FROM synapse "
                  "GROUP BY ALL) WHERE w > 1 + 1e-9"),
            0);
  // Roughly 15% branch contacts.
  double branch = std::stod(scalar(*w, "SELECT avg(post_is_branch::INTEGER) FROM synapse"));
  EXPECT_GT(branch, 0.10);
  EXPECT_LT(branch, 0.20);
  EXPECT_GT(count(*w, "SELECT count(*) FROM cell"), 0);
  EXPECT_EQ(**namespace_prefix(*w), "/synthetic");
}

TEST_F(SyntheticData, SameSeedSameData) {
  SyntheticOptions o;
  o.rows = 10000;
  o.datasets = 3;
  o.seed = 1234;
  std::string sums[3];
  for (int i = 0; i < 3; ++i) {
    auto w = open_migrated("wh" + std::to_string(i));
    ASSERT_TRUE(w);
    SyntheticOptions oi = o;
    if (i == 2) oi.seed = 4321;
    auto n = generate_synthetic(*w, oi);
    ASSERT_TRUE(n.ok()) << n.error().to_string();
    sums[i] = scalar(*w,
                     "SELECT sum(size)::VARCHAR || '/' || sum(sections) || '/' || "
                     "sum(hash(pre, post, dataset_id) % 1000) FROM synapse");
  }
  EXPECT_EQ(sums[0], sums[1]);
  EXPECT_NE(sums[0], sums[2]) << "a different seed gave the same data";
}

TEST_F(SyntheticData, GenerateTwiceInOneWarehouseFailsCleanly) {
  auto w = open_migrated();
  ASSERT_TRUE(w);
  SyntheticOptions o;
  o.rows = 100;
  ASSERT_TRUE(generate_synthetic(*w, o).ok());
  auto again = generate_synthetic(*w, o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(count(*w, "SELECT count(*) FROM synapse"), 100);
  o.rows = -1;
  EXPECT_FALSE(generate_synthetic(*w, o).ok());
}

TEST_F(SyntheticData, WriteCsvHasHeaderAndRows) {
  SyntheticOptions o;
  o.rows = 5000;
  o.datasets = 2;
  std::string path = (fs::path(dir_) / "syn.csv").string();
  auto n = write_synthetic_synapse_csv(path, o);
  ASSERT_TRUE(n.ok()) << n.error().to_string();
  EXPECT_EQ(*n, 5000);
  std::istringstream in(ReadFile(path));
  std::string line, header;
  int64_t lines = 0;
  while (std::getline(in, line)) {
    if (lines == 0) header = line;
    ++lines;
  }
  EXPECT_EQ(lines, o.rows + 1);
  EXPECT_EQ(header, "dataset_id,synapse_id,pre,post,size,weight,sections,post_is_branch");

  // The file imports back with the CSV importer.
  auto w = open_migrated();
  ASSERT_TRUE(w);
  CsvImportOptions c;
  c.file = path;
  c.table = "synapse";
  c.dataset = "/synthetic/gen/dataset1";
  auto imported = import_file(*w, c);
  ASSERT_TRUE(imported.ok()) << imported.error().to_string();
  EXPECT_EQ(*imported, 5000);
}

}  // namespace
}  // namespace syndb::warehouse
