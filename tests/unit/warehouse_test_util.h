// Helpers for the tests that query a Warehouse (warehouse_test.cc, import_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "warehouse/schema.h"
#include "warehouse/warehouse.h"

namespace syndb::test_support {

// The single value of a one-row, one-column query ("NULL" for SQL NULL); a
// test failure and "<error>" when the query fails or returns another shape.
inline std::string scalar(warehouse::Warehouse& w, const std::string& sql) {
  auto r = w.query_text(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << (r.ok() ? "" : r.error().to_string());
  if (!r.ok() || r->rows.size() != 1 || r->rows[0].empty()) {
    ADD_FAILURE() << sql << ": expected one row";
    return "<error>";
  }
  return r->rows[0][0].value_or("NULL");
}

// A count(*)-style query's single value as a number; -1 and a test failure
// when it is not one.
inline int64_t count(warehouse::Warehouse& w, const std::string& sql) {
  std::string s = scalar(w, sql);
  try {
    return std::stoll(s);
  } catch (...) {
    ADD_FAILURE() << sql << " returned " << s;
    return -1;
  }
}

// A new warehouse in `dir`, migrated to this build's schema; nullptr (and a
// test failure) when that fails.
inline std::unique_ptr<warehouse::Warehouse> open_migrated(const std::string& dir) {
  auto w = warehouse::open_duckdb(dir);
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().to_string());
  if (!w.ok()) return nullptr;
  auto v = (*w)->migrate(warehouse::latest_schema_version());
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
  return std::move(w).value();
}

}  // namespace syndb::test_support
