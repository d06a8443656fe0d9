// SQL text helpers for statements the warehouse builds itself.
#pragma once

#include <string>

namespace syndb::warehouse {

// 'text' with single quotes doubled: a SQL string literal.
inline std::string sql_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("''") : std::string(1, c);
  return out + "'";
}

// "name" with double quotes doubled: a SQL identifier.
inline std::string sql_ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A string literal, or NULL for the empty string.
inline std::string sql_quote_or_null(const std::string& s) { return s.empty() ? "NULL" : sql_quote(s); }

}  // namespace syndb::warehouse
