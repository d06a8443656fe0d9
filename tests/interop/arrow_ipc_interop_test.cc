// Arrow IPC interop with the reference JavaScript implementation (apache-arrow
// 21.2.0 from node_modules, run by tests/interop/arrow_roundtrip.mjs):
//   (a) streams our writer produces (every type, nulls, slices, empty batches,
//       a real DuckDB result; uncompressed, LZ4_FRAME and ZSTD) are read by
//       tableFromIPC with identical values;
//   (b) streams apache-arrow writes with tableToIPC(table, 'stream') (every
//       type it supports, nulls, an empty batch, dictionary replacement and
//       delta; uncompressed, LZ4_FRAME and ZSTD) are read by our reader with
//       identical values.
// "Identical" = equal canonical JSON (src/arrow/json.h; the script renders
// Arrow JS tables the same way).

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "Message_generated.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "arrow/json.h"
#include "arrow_test_arrays.h"
#include "warehouse/warehouse.h"

#ifndef SYNDB_SOURCE_DIR
#error "SYNDB_SOURCE_DIR must be defined (repository root)"
#endif

namespace syndb::arrow {
namespace {

using json = nlohmann::json;

std::string node_binary() {
  const char* env = std::getenv("SYNDB_NODE_BIN");
  return env != nullptr && *env != '\0' ? env : "node";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "syndb-arrow-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs the script (bounded by `timeout`), returns its stdout; fails the test on a non-zero exit.
std::optional<std::string> run_script(const std::vector<std::string>& args) {
  std::string cmd = "timeout 120 " + node_binary() + " " + std::string(SYNDB_SOURCE_DIR) + "/tests/interop/arrow_roundtrip.mjs";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (status != 0) {
    ADD_FAILURE() << cmd << " exited with " << status << ":\n" << out.substr(0, 4000);
    return std::nullopt;
  }
  return out;
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<const ArrowArray*> ptrs(const std::vector<OwnedArrowArray>& v) {
  std::vector<const ArrowArray*> out;
  for (const auto& a : v) out.push_back(a.get());
  return out;
}

const char* name_of(const std::optional<Codec>& c) { return c ? codec_name(*c) : "uncompressed"; }

// Writes `batches` with our writer, has apache-arrow read them, compares.
void expect_js_reads(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches) {
  auto expected = to_canonical_json(schema, batches);
  ASSERT_TRUE(expected.ok()) << expected.error().to_string();
  for (auto codec : {std::optional<Codec>(), std::optional<Codec>(Codec::kLz4Frame), std::optional<Codec>(Codec::kZstd)}) {
    SCOPED_TRACE(name_of(codec));
    WriterOptions options;
    options.compression = codec;
    auto bytes = write_ipc_stream(schema, batches, options);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    TempDir dir;
    write_file(dir.file("ours.arrows"), *bytes);
    auto out = run_script({"read", dir.file("ours.arrows")});
    ASSERT_TRUE(out.has_value());
    json got = json::parse(*out, nullptr, false);
    ASSERT_FALSE(got.is_discarded()) << out->substr(0, 2000);
    EXPECT_EQ(got["fields"], (*expected)["fields"]);
    EXPECT_EQ(got["batches"], (*expected)["batches"]);
    ASSERT_EQ(got["columns"].size(), (*expected)["columns"].size());
    for (size_t k = 0; k < got["columns"].size(); ++k) {
      EXPECT_EQ(got["columns"][k], (*expected)["columns"][k]) << "column " << (*expected)["fields"][k]["name"];
    }
  }
}

TEST(ArrowJsInterop, JsReadsEveryTypeWeWrite) {
  using namespace testing;
  Batch b1 = make_batch(all_types_columns(11, 0));
  Batch b0 = make_batch(all_types_columns(0, 1));
  Batch b2 = make_batch(all_types_columns(40, 2));
  // A batch of sliced columns (offsets that are not multiples of 8).
  std::vector<Column> cols = all_types_columns(30, 3);
  for (auto& c : cols) {
    auto s = std::make_shared<ArrayData>(*c.data);
    s->offset = 5;
    s->length = 19;
    s->null_count = c.data->null_count == 0 ? 0 : -1;
    c.data = s;
  }
  Batch sliced = make_batch(cols);
  expect_js_reads(*b1.c_schema.get(), {b1.array.get(), b0.array.get(), b2.array.get(), sliced.array.get()});
}

TEST(ArrowJsInterop, JsReadsDuckDbResults) {
  auto wh = warehouse::open_duckdb(":memory:");
  ASSERT_TRUE(wh.ok()) << wh.error().to_string();
  ASSERT_TRUE((*wh)->execute("SET TimeZone='UTC'").ok());
  ASSERT_TRUE((*wh)->execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')").ok());
  auto stream = (*wh)->query_arrow(R"sql(
    SELECT (i % 2 = 0) AS b, CASE WHEN i % 7 = 3 THEN NULL ELSE (i % 100)::TINYINT END AS ti,
      (i * 3 - 7000)::SMALLINT AS si, (i * 100003)::INTEGER AS ii, (i * 10000000019 - 1)::BIGINT AS bi,
      (i % 200)::UTINYINT AS uti, i::USMALLINT AS usi, (i * 1000)::UINTEGER AS ui,
      (i * 1000000000000000)::UBIGINT AS ubi, (i / 3.0)::FLOAT AS f,
      CASE WHEN i % 11 = 0 THEN NULL ELSE i / 7.0 END::DOUBLE AS d,
      CASE WHEN i % 5 = 1 THEN NULL ELSE 'row ' || i || ' ✓ é' END AS v, encode('blob' || i) AS bl,
      DATE '2020-01-01' + (i - 2000)::INTEGER AS dt, TIME '00:00:00' + INTERVAL (i * 17) SECOND AS t,
      TIMESTAMP '2020-01-01 00:00:00' + INTERVAL (i * 7919) SECOND AS ts,
      TIMESTAMPTZ '2020-01-01 00:00:00+00' + INTERVAL (i) MINUTE AS tstz,
      (i * 1.001 - 2.5)::DECIMAL(18,3) AS dec18, (i * 12345.6789012345 - 1)::DECIMAL(38,10) AS dec38,
      (i::HUGEINT * 34028236692093846346337460743176 - 7) AS huge,
      CASE WHEN i % 3 = 0 THEN NULL ELSE [i, NULL, i + 1] END AS l,
      {'a': i, 'b': 'x' || i, 'c': [i::DOUBLE]} AS s, MAP(['k' || (i % 3)], [i]) AS m,
      [i, i * 2]::INTEGER[2] AS arr, INTERVAL (i) DAY + INTERVAL (i) MICROSECOND AS iv,
      ('5fc6c6a8-7fd5-4e0c-9e1b-00000000000' || (i % 10))::UUID AS u,
      (['sad', 'ok', 'happy'])[1 + i % 3]::mood AS e
    FROM range(0, 5000) t(i))sql");
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  std::vector<OwnedArrowArray> batches;
  while (true) {
    OwnedArrowArray a;
    auto more = (*stream)->next(&a);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    batches.push_back(std::move(a));
  }
  ASSERT_GE(batches.size(), 3u);
  expect_js_reads((*stream)->schema(), ptrs(batches));
}

TEST(ArrowJsInterop, WeReadWhatJsWrites) {
  for (const char* compression : {"", "lz4", "zstd"}) {
    SCOPED_TRACE(*compression ? compression : "uncompressed");
    TempDir dir;
    std::vector<std::string> args = {"write", dir.file("js.arrows")};
    if (*compression) {
      args.push_back("--compression");
      args.push_back(compression);
    }
    auto out = run_script(args);
    ASSERT_TRUE(out.has_value());
    json expected = json::parse(*out, nullptr, false);
    ASSERT_FALSE(expected.is_discarded()) << out->substr(0, 2000);
    ASSERT_EQ(expected["batches"], json::array({5, 0, 9}));

    Bytes bytes = read_file(dir.file("js.arrows"));
    ASSERT_FALSE(bytes.empty());
    // The stream exercises dictionary replacement and delta batches.
    int dictionaries = 0, deltas = 0;
    for (size_t pos = 0; pos + 8 <= bytes.size();) {
      int32_t len;
      std::memcpy(&len, bytes.data() + pos + 4, 4);
      if (len == 0) break;
      Bytes meta(bytes.begin() + static_cast<ptrdiff_t>(pos + 8), bytes.begin() + static_cast<ptrdiff_t>(pos + 8 + len));
      const auto* msg = org::apache::arrow::flatbuf::GetMessage(meta.data());
      if (const auto* db = msg->header_as_DictionaryBatch()) {
        ++dictionaries;
        deltas += db->isDelta();
      }
      pos += 8 + static_cast<size_t>(len) + static_cast<size_t>(msg->bodyLength());
    }
    EXPECT_GE(dictionaries, 4);
    EXPECT_GE(deltas, 1);
    ReaderOptions options;
    if (*compression) {
      // apache-arrow 21.2.0 puts the compressed length where the spec wants
      // the uncompressed one (apache/arrow-js PR #470): refused by default,
      // read with the compatibility option.
      auto strict = read_ipc_stream(bytes);
      ASSERT_FALSE(strict.ok());
      EXPECT_NE(strict.error().message().find("declared"), std::string::npos) << strict.error().to_string();
      options.accept_js_compressed_length_prefix = true;
    }
    auto stream = read_ipc_stream(bytes, options);
    ASSERT_TRUE(stream.ok()) << stream.error().to_string();
    auto got = to_canonical_json(*stream->schema.get(), ptrs(stream->batches));
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ((*got)["fields"], expected["fields"]);
    EXPECT_EQ((*got)["batches"], expected["batches"]);
    ASSERT_EQ((*got)["columns"].size(), expected["columns"].size());
    for (size_t k = 0; k < expected["columns"].size(); ++k) {
      EXPECT_EQ((*got)["columns"][k], expected["columns"][k]) << "column " << expected["fields"][k]["name"];
    }

    // And the same bytes fed in odd-sized pieces.
    IpcStreamReader reader(options);
    size_t batches = 0;
    for (size_t pos = 0; pos < bytes.size(); pos += 333) {
      ASSERT_TRUE(reader.feed(ByteSpan(bytes).subspan(pos, std::min<size_t>(333, bytes.size() - pos))).ok());
      while (auto m = reader.next()) batches += m->kind == MessageKind::kRecordBatch;
    }
    ASSERT_TRUE(reader.finish().ok());
    EXPECT_EQ(batches, 3u);
  }
}

}  // namespace
}  // namespace syndb::arrow
