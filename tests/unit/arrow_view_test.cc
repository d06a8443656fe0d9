// Warehouse::register_arrow_view: DuckDB scanning an Arrow C stream through
// our table function (no pushdown into the stream), as the federated engine
// does with the fragments' queues.
#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "arrow/builder.h"
#include "warehouse/warehouse.h"
#include "warehouse_test_util.h"

namespace syndb::warehouse {
namespace {

using test_support::scalar;

// Batches handed out in order; an optional error after them.
class VectorStream {
 public:
  VectorStream(arrow::Schema schema, std::vector<OwnedArrowArray> batches, std::string error = "")
      : schema_(std::move(schema)), batches_(std::move(batches)), error_(std::move(error)) {
    stream_.private_data = this;
    stream_.get_schema = [](ArrowArrayStream* s, ArrowSchema* out) {
      return arrow::export_schema(self(s)->schema_, out).ok() ? 0 : EINVAL;
    };
    stream_.get_next = [](ArrowArrayStream* s, ArrowArray* out) {
      VectorStream* v = self(s);
      if (v->next_ == v->batches_.size()) {
        if (!v->error_.empty()) return EIO;
        out->release = nullptr;
        return 0;
      }
      *out = *v->batches_[v->next_].get();
      v->batches_[v->next_++].get()->release = nullptr;
      return 0;
    };
    stream_.get_last_error = [](ArrowArrayStream* s) -> const char* { return self(s)->error_.c_str(); };
    stream_.release = [](ArrowArrayStream* s) { s->release = nullptr; };
  }
  ArrowArrayStream* get() { return &stream_; }
  size_t batches_read() const { return next_; }

 private:
  static VectorStream* self(ArrowArrayStream* s) { return static_cast<VectorStream*>(s->private_data); }
  arrow::Schema schema_;
  std::vector<OwnedArrowArray> batches_;
  std::string error_;
  size_t next_ = 0;
  ArrowArrayStream stream_{};
};

arrow::Schema test_schema() {
  arrow::Schema s;
  s.fields = {arrow::int_field("a", 64, true), arrow::utf8_field("s")};
  return s;
}

// Rows [first, first + n): a = i, s = "r<i>" or NULL when i % 7 == 0.
OwnedArrowArray rows(int64_t first, int64_t n) {
  std::vector<int64_t> a;
  std::vector<std::optional<std::string>> s;
  for (int64_t i = first; i < first + n; ++i) {
    a.push_back(i);
    s.push_back(i % 7 == 0 ? std::nullopt : std::optional<std::string>("r" + std::to_string(i)));
  }
  OwnedArrowSchema schema;
  OwnedArrowArray batch;
  EXPECT_TRUE(arrow::export_table(test_schema(), n, {arrow::fixed_column(a), arrow::string_column(s)}, &schema, &batch)
                  .ok());
  return batch;
}

// 5000 rows in one batch (longer than a DuckDB vector), an empty batch, then 3 more rows.
std::unique_ptr<VectorStream> test_stream(std::string error = "") {
  std::vector<OwnedArrowArray> b;
  b.push_back(rows(0, 5000));
  b.push_back(rows(5000, 0));
  b.push_back(rows(5000, 3));
  return std::make_unique<VectorStream>(test_schema(), std::move(b), std::move(error));
}

class WarehouseArrowView : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenOptions o;
    o.sandbox = true;
    auto w = open_duckdb(":memory:", o);
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    db_ = std::move(w).value();
  }
  std::unique_ptr<Warehouse> db_;
};

TEST_F(WarehouseArrowView, FiltersAndAggregatesEveryRow) {
  auto stream = test_stream();
  auto view = db_->register_arrow_view("v", stream->get());
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  // Expected values computed from the generator's definition.
  int64_t count = 0, sum = 0, non_null = 0;
  for (int64_t i = 0; i < 5003; ++i) {
    if (i % 3 != 0) continue;
    ++count;
    sum += i;
    if (i % 7 != 0) ++non_null;
  }
  auto r = db_->query_text("SELECT count(*), sum(a), count(s) FROM v WHERE a % 3 = 0");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0][0], std::to_string(count));
  EXPECT_EQ(r->rows[0][1], std::to_string(sum));
  EXPECT_EQ(r->rows[0][2], std::to_string(non_null));
  EXPECT_EQ(stream->batches_read(), 3u);
}

TEST_F(WarehouseArrowView, ProjectionReadsTheRightColumn) {
  // DuckDB's arrow_scan would push this projection and filter into the
  // stream, which cannot apply them, and misread column s.
  auto stream = test_stream();
  auto view = db_->register_arrow_view("v", stream->get());
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  auto r = db_->query_text("SELECT s FROM v WHERE a BETWEEN 4998 AND 5001 ORDER BY a");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->rows.size(), 4u);
  EXPECT_EQ(r->rows[0][0], std::nullopt);  // 4998 = 7 * 714
  EXPECT_EQ(r->rows[1][0], std::optional<std::string>("r4999"));
  EXPECT_EQ(r->rows[2][0], std::optional<std::string>("r5000"));  // from the third batch
  EXPECT_EQ(r->rows[3][0], std::optional<std::string>("r5001"));
}

TEST_F(WarehouseArrowView, UntrustedConnectionReadsButCannotRegister) {
  auto stream = test_stream();
  auto view = db_->register_arrow_view("v", stream->get());
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  auto untrusted = db_->connect(true);
  ASSERT_TRUE(untrusted.ok());
  EXPECT_EQ(scalar(**untrusted, "SELECT count(*) FROM v"), "5003");
  auto other = test_stream();
  auto refused = (*untrusted)->register_arrow_view("w", other->get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(WarehouseArrowView, SecondScanIsAnErrorNotAnEmptyTable) {
  auto stream = test_stream();
  auto view = db_->register_arrow_view("v", stream->get());
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  auto r = db_->query_text("SELECT count(*) FROM v AS x, v AS y");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("already read"), std::string::npos) << r.error().message();
}

TEST_F(WarehouseArrowView, StreamErrorFailsTheQueryWithItsMessage) {
  auto stream = test_stream("node harvard: connection reset");
  auto view = db_->register_arrow_view("v", stream->get());
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  auto r = db_->query_text("SELECT count(*) FROM v");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("node harvard: connection reset"), std::string::npos) << r.error().message();
  EXPECT_EQ(scalar(*db_, "SELECT 1"), "1");  // the connection stays usable
}

TEST_F(WarehouseArrowView, DroppingTheHandleDropsTheView) {
  {
    auto stream = test_stream();
    auto view = db_->register_arrow_view("v", stream->get());
    ASSERT_TRUE(view.ok()) << view.error().to_string();
    auto again = db_->register_arrow_view("v", stream->get());
    EXPECT_FALSE(again.ok()) << "a second view of the same name";
  }
  EXPECT_FALSE(db_->query_text("SELECT * FROM v").ok());
  auto stream = test_stream();
  auto view = db_->register_arrow_view("v", stream->get());
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  EXPECT_EQ(scalar(*db_, "SELECT max(a) FROM v"), "5002");
}

TEST_F(WarehouseArrowView, SameNamesOtherTypesAreNotConfused) {
  // Column types are remembered per schema; a schema that differs only in a
  // column's type must get its own.
  auto ints = test_stream();
  auto a = db_->register_arrow_view("a", ints->get());
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  arrow::Schema doubles_schema;
  arrow::Field f;
  f.name = "a";
  f.type.id = arrow::TypeId::kFloatingPoint;
  f.type.precision = arrow::FloatPrecision::kDouble;
  doubles_schema.fields = {f, arrow::utf8_field("s")};
  OwnedArrowSchema exported;
  OwnedArrowArray batch;
  ASSERT_TRUE(arrow::export_table(doubles_schema, 2, {arrow::fixed_column(std::vector<double>{0.5, 1.5}),
                                                      arrow::string_column({"x", std::nullopt})},
                                  &exported, &batch)
                  .ok());
  std::vector<OwnedArrowArray> batches;
  batches.push_back(std::move(batch));
  VectorStream doubles(doubles_schema, std::move(batches));
  auto b = db_->register_arrow_view("b", doubles.get());
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(scalar(*db_, "SELECT any_value(typeof(a)) || ' ' || sum(a) FROM b"), "DOUBLE 2.0");
  EXPECT_EQ(scalar(*db_, "SELECT any_value(typeof(a)) || ' ' || sum(a) FROM a"), "BIGINT 12512503");
}

}  // namespace
}  // namespace syndb::warehouse
