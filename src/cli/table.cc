#include "cli/table.h"

#include "cli/commands.h"

#include <algorithm>
#include <string>

namespace syndb::cli {

int fail(const std::string& message, int exit_code) {
  std::fprintf(stderr, "syndb: %s\n", message.c_str());
  return exit_code;
}

namespace {
constexpr const char* kNull = "NULL";

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 code points
  return n;
}
}  // namespace

void print_table(const warehouse::TextResult& r, std::FILE* out) {
  std::vector<size_t> width(r.columns.size());
  for (size_t c = 0; c < r.columns.size(); ++c) width[c] = display_width(r.columns[c]);
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c].value_or(kNull)));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      std::fprintf(out, "%s%s%*s", c ? " | " : "", cells[c].c_str(),
                   static_cast<int>(width[c] - display_width(cells[c])), "");
    }
    std::fprintf(out, "\n");
  };
  line(r.columns);
  for (size_t c = 0; c < width.size(); ++c) std::fprintf(out, "%s%s", c ? "-+-" : "", std::string(width[c], '-').c_str());
  std::fprintf(out, "\n");
  for (const auto& row : r.rows) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(v.value_or(kNull));
    line(cells);
  }
  std::fprintf(out, "(%zu row%s)\n", r.rows.size(), r.rows.size() == 1 ? "" : "s");
}

void print_csv(const warehouse::TextResult& r, std::FILE* out) {
  auto field = [&](const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) {
      std::fputs(s.c_str(), out);
      return;
    }
    std::string q = "\"";
    for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
    std::fputs((q + "\"").c_str(), out);
  };
  for (size_t c = 0; c < r.columns.size(); ++c) {
    if (c) std::fputc(',', out);
    field(r.columns[c]);
  }
  std::fputc('\n', out);
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) std::fputc(',', out);
      if (row[c]) field(*row[c]);  // NULL is an empty field
    }
    std::fputc('\n', out);
  }
}

}  // namespace syndb::cli
