// Text output of query results: an aligned table or RFC 4180 CSV.
#pragma once

#include <cstdio>

#include "warehouse/warehouse.h"

namespace syndb::cli {

void print_table(const warehouse::TextResult& r, std::FILE* out);
void print_csv(const warehouse::TextResult& r, std::FILE* out);

}  // namespace syndb::cli
