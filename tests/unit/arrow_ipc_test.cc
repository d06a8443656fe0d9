// Arrow IPC stream writer and reader: round trips of every supported type
// (nulls, slices, empty batches, dictionaries, compression), a real DuckDB
// result through writer -> reader -> back into DuckDB, and malformed input.

#include <duckdb.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "../interop/arrow_test_arrays.h"
#include "Message_generated.h"
#include "arrow/array.h"
#include "arrow/ipc_reader.h"
#include "arrow/ipc_writer.h"
#include "arrow/json.h"
#include "arrow/schema.h"
#include "warehouse/warehouse.h"

namespace syndb::arrow {
namespace {

using json = nlohmann::json;
using testing::all_types_columns;
using testing::Batch;
using testing::Column;
using testing::make_batch;
namespace fb = org::apache::arrow::flatbuf;

json to_json(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches) {
  auto j = to_canonical_json(schema, batches);
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error().to_string());
  return j.ok() ? *j : json();
}

std::vector<const ArrowArray*> ptrs(const std::vector<OwnedArrowArray>& v) {
  std::vector<const ArrowArray*> out;
  for (const auto& a : v) out.push_back(a.get());
  return out;
}

Bytes write_stream(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches, WriterOptions options = {}) {
  auto bytes = write_ipc_stream(schema, batches, options);
  EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().to_string());
  return bytes.ok() ? *bytes : Bytes{};
}

ReadStream read_stream(const Bytes& bytes) {
  auto r = read_ipc_stream(bytes);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(*r) : ReadStream{};
}

// Writes, reads back, and checks values and schema are identical.
void expect_round_trip(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches,
                       WriterOptions options = {}) {
  const json expected = to_json(schema, batches);
  Bytes bytes = write_stream(schema, batches, options);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.size() % 8, 0u);
  ReadStream got = read_stream(bytes);
  ASSERT_EQ(got.batches.size(), batches.size());
  EXPECT_EQ(to_json(*got.schema.get(), ptrs(got.batches)), expected);
  // The schema survives exactly (names, nullability, types, dictionary encoding).
  auto a = import_schema(schema);
  auto b = import_schema(*got.schema.get());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // Re-writing what we read gives the same bytes.
  EXPECT_EQ(write_stream(*got.schema.get(), ptrs(got.batches), options), bytes);
}

TEST(ArrowIpc, RoundTripEveryTypeWithNulls) {
  Batch b = make_batch(all_types_columns(23));
  expect_round_trip(*b.c_schema.get(), {b.array.get()});
  // Spot-check the canonical rendering itself.
  json j = to_json(*b.c_schema.get(), {b.array.get()});
  EXPECT_EQ(j["fields"].size(), b.schema.fields.size());
  EXPECT_EQ(j["columns"][0][0], nullptr);                 // null type
  EXPECT_EQ(j["columns"][2][1], nullptr);                 // int8, row 1 is null
  EXPECT_EQ(j["columns"][2][0], -128);
  EXPECT_EQ(j["columns"][5][0], "-9223372036854775808");  // int64 min
  EXPECT_EQ(j["columns"][9][0], "18446744073709551615");  // uint64 max
}

TEST(ArrowIpc, RoundTripSeveralBatchesAndEmptyBatches) {
  Batch b1 = make_batch(all_types_columns(7, 1));
  Batch b0 = make_batch(all_types_columns(0, 2));
  Batch b2 = make_batch(all_types_columns(64, 3));
  Batch b3 = make_batch(all_types_columns(1, 4));
  expect_round_trip(*b1.c_schema.get(), {b1.array.get(), b0.array.get(), b2.array.get(), b0.array.get(), b3.array.get()});
}

TEST(ArrowIpc, SchemaOnlyStream) {
  Batch b = make_batch(all_types_columns(3));
  Bytes bytes = write_stream(*b.c_schema.get(), {});
  ReadStream got = read_stream(bytes);
  EXPECT_TRUE(got.batches.empty());
  EXPECT_EQ(*import_schema(*got.schema.get()), *import_schema(*b.c_schema.get()));
}

// A copy of `a` viewing slots [off, off + len) of it (null count unknown: -1).
std::shared_ptr<ArrayData> slice(const std::shared_ptr<ArrayData>& a, int64_t off, int64_t len) {
  auto s = std::make_shared<ArrayData>(*a);
  s->offset = a->offset + off;
  s->length = len;
  s->null_count = a->null_count == 0 ? 0 : -1;
  return s;
}

TEST(ArrowIpc, SlicedArraysAreNormalised) {
  const int64_t rows = 40;
  std::vector<Column> full = all_types_columns(rows, 5);
  Batch whole = make_batch(full);
  const json full_json = to_json(*whole.c_schema.get(), {whole.array.get()});
  for (int64_t off : {1, 3, 8, 13}) {
    for (int64_t len : {0, 1, 7, 17}) {
      SCOPED_TRACE("offset " + std::to_string(off) + " length " + std::to_string(len));
      // 1. Every column sliced.
      std::vector<Column> cols = full;
      for (auto& c : cols) c.data = slice(c.data, off, len);
      Batch sliced = make_batch(cols);
      json expected = full_json;
      for (auto& col : expected["columns"]) {
        json part = json::array();
        for (int64_t r = off; r < off + len; ++r) part.push_back(col[static_cast<size_t>(r)]);
        col = part;
      }
      expected["batches"] = json::array({len});
      EXPECT_EQ(to_json(*sliced.c_schema.get(), {sliced.array.get()}), expected);
      expect_round_trip(*sliced.c_schema.get(), {sliced.array.get()});

      // 2. The root struct sliced instead (offset on the batch, not the columns).
      std::vector<std::shared_ptr<const ArrayData>> data;
      for (auto& c : full) data.push_back(c.data);
      auto root = std::make_shared<ArrayData>();
      root->length = len;
      root->offset = off;
      root->buffers = {nullptr};
      root->children = data;
      OwnedArrowArray array;
      export_array(root, array.get());
      EXPECT_EQ(to_json(*whole.c_schema.get(), {array.get()}), expected);
      const json before = to_json(*whole.c_schema.get(), {array.get()});
      ReadStream got = read_stream(write_stream(*whole.c_schema.get(), {array.get()}));
      ASSERT_EQ(got.batches.size(), 1u);
      EXPECT_EQ(to_json(*got.schema.get(), ptrs(got.batches)), before);
    }
  }
}

TEST(ArrowIpc, NestedChildrenWithOffsets) {
  // A struct whose children are themselves slices of longer arrays, and a
  // list whose child starts at an offset.
  auto ints = testing::primitive<int32_t>("a", "i", {1, std::nullopt, 3, 4, 5, 6, std::nullopt, 8, 9, 10});
  auto strs = testing::var_binary("b", "u", {"zero", "one", std::nullopt, "three", "four", "five", "six", "seven", "eight", "nine"});
  Column a = ints;
  a.data = slice(ints.data, 3, 5);
  Column b = strs;
  b.data = slice(strs.data, 2, 6);
  Column st = testing::struct_of("s", {a, b}, {true, false, true, true});  // 4 rows: children offsets apply
  auto child = testing::primitive<int64_t>("item", "l", {100, 101, 102, 103, 104, 105, 106});
  Column lst = testing::list("l", "+l", child, {2, std::nullopt, 0, 1});
  lst.data->children[0] = slice(child.data, 2, 5);
  Batch batch = make_batch({st, lst});
  const json j = to_json(*batch.c_schema.get(), {batch.array.get()});
  EXPECT_EQ(j["columns"][0][0], json::array({4, nullptr}));  // a = ints[3], b = strs[2]
  EXPECT_EQ(j["columns"][0][1], nullptr);
  EXPECT_EQ(j["columns"][0][2], json::array({6, "four"}));
  EXPECT_EQ(j["columns"][0][3], json::array({nullptr, "five"}));
  EXPECT_EQ(j["columns"][1][0], json::array({"102", "103"}));
  EXPECT_EQ(j["columns"][1][3], json::array({"104"}));
  expect_round_trip(*batch.c_schema.get(), {batch.array.get()});
}

TEST(ArrowIpc, CompressionLz4AndZstd) {
  Batch b1 = make_batch(all_types_columns(300, 1));
  Batch b0 = make_batch(all_types_columns(0, 2));
  for (Codec codec : {Codec::kLz4Frame, Codec::kZstd}) {
    SCOPED_TRACE(codec_name(codec));
    WriterOptions options;
    options.compression = codec;
    expect_round_trip(*b1.c_schema.get(), {b1.array.get(), b0.array.get()}, options);
  }
  // Compressible data really shrinks.
  std::vector<std::optional<int64_t>> zeros(100000, int64_t{0});
  Batch z = make_batch({testing::primitive<int64_t>("z", "l", zeros)});
  WriterOptions zstd;
  zstd.compression = Codec::kZstd;
  Bytes plain = write_stream(*z.c_schema.get(), {z.array.get()});
  Bytes packed = write_stream(*z.c_schema.get(), {z.array.get()}, zstd);
  EXPECT_LT(packed.size() * 50, plain.size());
  ReadStream got = read_stream(packed);
  EXPECT_EQ(to_json(*got.schema.get(), ptrs(got.batches)), to_json(*z.c_schema.get(), {z.array.get()}));
}

TEST(ArrowIpc, DictionariesAreSentOnceUnlessTheyChange) {
  auto values = testing::var_binary("v", "u", {"a", "b", "c"});
  Batch b1 = make_batch({testing::dictionary<int32_t>("d", "i", values, {0, 1, 2, std::nullopt})});
  Batch b2 = make_batch({testing::dictionary<int32_t>("d", "i", values, {2, 2})});
  auto other = testing::var_binary("v", "u", {"x", "y"});
  Batch b3 = make_batch({testing::dictionary<int32_t>("d", "i", other, {1, 0})});
  std::vector<int> kinds;  // message header types in order
  Bytes bytes = write_stream(*b1.c_schema.get(), {b1.array.get(), b2.array.get(), b3.array.get()});
  for (size_t pos = 0; pos + 8 <= bytes.size();) {
    int32_t len;
    std::memcpy(&len, bytes.data() + pos + 4, 4);
    if (len == 0) break;
    auto* msg = fb::GetMessage(bytes.data() + pos + 8);
    kinds.push_back(msg->header_type());
    pos += 8 + static_cast<size_t>(len) + static_cast<size_t>(msg->bodyLength());
  }
  EXPECT_EQ(kinds, (std::vector<int>{fb::MessageHeader_Schema, fb::MessageHeader_DictionaryBatch,
                                     fb::MessageHeader_RecordBatch, fb::MessageHeader_RecordBatch,
                                     fb::MessageHeader_DictionaryBatch, fb::MessageHeader_RecordBatch}));
  ReadStream got = read_stream(bytes);
  json j = to_json(*got.schema.get(), ptrs(got.batches));
  EXPECT_EQ(j["columns"][0], json::array({"a", "b", "c", nullptr, "c", "c", "y", "x"}));
}

TEST(ArrowIpc, IncrementalFeedByteByByte) {
  Batch b1 = make_batch(all_types_columns(9, 1));
  Batch b2 = make_batch(all_types_columns(4, 2));
  Bytes bytes = write_stream(*b1.c_schema.get(), {b1.array.get(), b2.array.get()});
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{1000}}) {
    IpcStreamReader reader;
    std::vector<OwnedArrowArray> batches;
    int schemas = 0, eos = 0;
    for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
      ASSERT_TRUE(reader.feed(ByteSpan(bytes).subspan(pos, std::min(chunk, bytes.size() - pos))).ok());
      while (auto m = reader.next()) {
        if (m->kind == MessageKind::kSchema) ++schemas;
        if (m->kind == MessageKind::kEndOfStream) ++eos;
        if (m->kind == MessageKind::kRecordBatch) batches.push_back(std::move(m->batch));
      }
    }
    ASSERT_TRUE(reader.finish().ok());
    EXPECT_EQ(schemas, 1);
    EXPECT_EQ(eos, 1);
    EXPECT_TRUE(reader.end_of_stream());
    EXPECT_EQ(reader.bytes_consumed(), static_cast<int64_t>(bytes.size()));
    OwnedArrowSchema schema;
    ASSERT_TRUE(reader.export_schema(schema.get()).ok());
    EXPECT_EQ(to_json(*schema.get(), ptrs(batches)), to_json(*b1.c_schema.get(), {b1.array.get(), b2.array.get()}));
  }
}

TEST(ArrowIpc, ChildrenMovedOutOutliveTheirParent) {
  Batch b = make_batch(all_types_columns(5));
  ReadStream got = read_stream(write_stream(*b.c_schema.get(), {b.array.get()}));
  ASSERT_EQ(got.batches.size(), 1u);
  ArrowArray* root = got.batches[0].get();
  // Move column 13 (utf8) out, release the batch, then read the column.
  ArrowArray moved = *root->children[13];
  root->children[13]->release = nullptr;
  got.batches.clear();
  EXPECT_EQ(moved.length, 5);
  const auto* offsets = static_cast<const int32_t*>(moved.buffers[1]);
  const auto* data = static_cast<const char*>(moved.buffers[2]);
  EXPECT_EQ(std::string(data + offsets[0], static_cast<size_t>(offsets[1] - offsets[0])), "");
  EXPECT_EQ(std::string(data + offsets[2], static_cast<size_t>(offsets[3] - offsets[2])), "héllo wörld");
  moved.release(&moved);
}

// ---------------------------------------------------------------------------
// DuckDB

constexpr const char* kDuckQuery = R"sql(
SELECT
  (i % 2 = 0) AS b,
  CASE WHEN i % 7 = 3 THEN NULL ELSE (i % 100)::TINYINT END AS ti,
  (i * 3 - 7000)::SMALLINT AS si,
  (i * 100003)::INTEGER AS ii,
  (i * 10000000019 - 1)::BIGINT AS bi,
  (i % 200)::UTINYINT AS uti,
  i::USMALLINT AS usi,
  (i * 1000)::UINTEGER AS ui,
  (i * 1000000000000000)::UBIGINT AS ubi,
  (i / 3.0)::FLOAT AS f,
  CASE WHEN i % 11 = 0 THEN NULL ELSE i / 7.0 END::DOUBLE AS d,
  CASE WHEN i % 5 = 1 THEN NULL ELSE 'row ' || i || ' ✓ é' END AS v,
  encode('blob' || i) AS bl,
  DATE '2020-01-01' + (i - 2000)::INTEGER AS dt,
  TIME '00:00:00' + INTERVAL (i * 17) SECOND AS t,
  TIMESTAMP '2020-01-01 00:00:00' + INTERVAL (i * 7919) SECOND AS ts,
  TIMESTAMPTZ '2020-01-01 00:00:00+00' + INTERVAL (i) MINUTE AS tstz,
  (i * 1.001 - 2.5)::DECIMAL(18,3) AS dec18,
  (i * 12345.6789012345 - 1)::DECIMAL(38,10) AS dec38,
  (i::HUGEINT * 34028236692093846346337460743176 - 7) AS huge,
  CASE WHEN i % 3 = 0 THEN NULL ELSE [i, NULL, i + 1] END AS l,
  {'a': i, 'b': 'x' || i, 'c': [i::DOUBLE]} AS s,
  MAP(['k' || (i % 3)], [i]) AS m,
  [i, i * 2]::INTEGER[2] AS arr,
  INTERVAL (i) DAY + INTERVAL (i) MICROSECOND AS iv,
  NULL AS n,
  ('5fc6c6a8-7fd5-4e0c-9e1b-00000000000' || (i % 10))::UUID AS u,
  (['sad', 'ok', 'happy'])[1 + i % 3]::mood AS e
FROM range(0, 5000) t(i)
)sql";

struct DuckBatches {
  OwnedArrowSchema schema;
  std::vector<OwnedArrowArray> batches;
};

DuckBatches run_duck(warehouse::Warehouse& wh, const std::string& sql) {
  DuckBatches out;
  auto stream = wh.query_arrow(sql);
  EXPECT_TRUE(stream.ok()) << (stream.ok() ? "" : stream.error().to_string());
  if (!stream.ok()) return out;
  // Copy the schema through our model (the stream owns its schema).
  auto s = import_schema((*stream)->schema());
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
  if (!s.ok()) return out;
  EXPECT_TRUE(export_schema(*s, out.schema.get()).ok());
  while (true) {
    OwnedArrowArray a;
    auto more = (*stream)->next(&a);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    out.batches.push_back(std::move(a));
  }
  return out;
}

TEST(ArrowIpcDuckDb, QueryResultRoundTripsAndGoesBackIntoDuckDb) {
  auto wh = warehouse::open_duckdb(":memory:");
  ASSERT_TRUE(wh.ok()) << wh.error().to_string();
  ASSERT_TRUE((*wh)->execute("SET TimeZone='UTC'").ok());
  ASSERT_TRUE((*wh)->execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')").ok());
  DuckBatches duck = run_duck(**wh, kDuckQuery);
  ASSERT_GE(duck.batches.size(), 3u);  // 5000 rows in 2048-row chunks

  // The formats DuckDB 1.4.4 exports for these columns (arrow-map.md section 1.8).
  std::vector<std::string> formats;
  for (int64_t i = 0; i < duck.schema->n_children; ++i) {
    const ArrowSchema* c = duck.schema->children[i];
    formats.push_back(c->format);
  }
  EXPECT_EQ(formats, (std::vector<std::string>{"b", "c", "s", "i", "l", "C", "S", "I", "L", "f", "g", "u", "z", "tdD",
                                               "ttu", "tsu:", "tsu:UTC", "d:18,3", "d:38,10", "d:38,0", "+l", "+s",
                                               "+m", "+w:2", "tin", "i", "u", "C"}));
  ASSERT_NE(duck.schema->children[27]->dictionary, nullptr);  // ENUM: dictionary-encoded utf8
  EXPECT_STREQ(duck.schema->children[27]->dictionary->format, "u");

  const json expected = to_json(*duck.schema.get(), ptrs(duck.batches));
  EXPECT_EQ(expected["columns"][11][0], "row 0 ✓ é");
  EXPECT_EQ(expected["columns"][11][1], nullptr);
  EXPECT_EQ(expected["columns"][17][0], "-2.500");
  EXPECT_EQ(expected["columns"][21][1], json::array({"1", "x1", json::array({"0x3ff0000000000000"})}));
  EXPECT_EQ(expected["columns"][27][4], "ok");

  for (auto compression : {std::optional<Codec>(), std::optional<Codec>(Codec::kLz4Frame), std::optional<Codec>(Codec::kZstd)}) {
    WriterOptions options;
    options.compression = compression;
    Bytes bytes = write_stream(*duck.schema.get(), ptrs(duck.batches), options);
    ReadStream got = read_stream(bytes);
    ASSERT_EQ(got.batches.size(), duck.batches.size());
    EXPECT_EQ(to_json(*got.schema.get(), ptrs(got.batches)), expected);

    if (compression) continue;
    // Hand what we read to DuckDB (duckdb_data_chunk_from_arrow) and export
    // it again: DuckDB accepts our arrays and sees the same values.
    duckdb_database db = nullptr;
    duckdb_connection conn = nullptr;
    ASSERT_EQ(duckdb_open(nullptr, &db), DuckDBSuccess);
    ASSERT_EQ(duckdb_connect(db, &conn), DuckDBSuccess);
    duckdb_arrow_converted_schema converted = nullptr;
    duckdb_error_data err = duckdb_schema_from_arrow(conn, got.schema.get(), &converted);
    ASSERT_EQ(err, nullptr) << duckdb_error_data_message(err);
    duckdb_arrow_options options_out = nullptr;
    duckdb_connection_get_arrow_options(conn, &options_out);
    std::vector<OwnedArrowArray> again;
    std::vector<duckdb_logical_type> types;
    for (auto& batch : got.batches) {
      duckdb_data_chunk chunk = nullptr;
      err = duckdb_data_chunk_from_arrow(conn, batch.get(), converted, &chunk);
      ASSERT_EQ(err, nullptr) << duckdb_error_data_message(err);
      if (types.empty()) {
        for (idx_t c = 0; c < duckdb_data_chunk_get_column_count(chunk); ++c) {
          types.push_back(duckdb_vector_get_column_type(duckdb_data_chunk_get_vector(chunk, c)));
        }
      }
      OwnedArrowArray out;
      err = duckdb_data_chunk_to_arrow(options_out, chunk, out.get());
      ASSERT_EQ(err, nullptr) << duckdb_error_data_message(err);
      duckdb_destroy_data_chunk(&chunk);
      again.push_back(std::move(out));
    }
    // The schema DuckDB exports for the types it converted ours to.
    std::vector<const char*> names;
    for (int64_t c = 0; c < duck.schema->n_children; ++c) names.push_back(duck.schema->children[c]->name);
    OwnedArrowSchema again_schema;
    err = duckdb_to_arrow_schema(options_out, types.data(), names.data(), types.size(), again_schema.get());
    ASSERT_EQ(err, nullptr) << duckdb_error_data_message(err);
    for (auto& t : types) duckdb_destroy_logical_type(&t);
    json back = to_json(*again_schema.get(), ptrs(again));
    // Same values; DuckDB imports the dictionary-encoded column as VARCHAR and
    // labels TIMESTAMPTZ with its new connection's zone, so compare those apart.
    EXPECT_EQ(back["columns"], expected["columns"]);
    json fields = expected["fields"];
    fields[16]["type"] = back["fields"][16]["type"];
    fields[27].erase("dictionary");
    EXPECT_EQ(back["fields"], fields);
    duckdb_destroy_arrow_options(&options_out);
    duckdb_destroy_arrow_converted_schema(&converted);
    duckdb_disconnect(&conn);
    duckdb_close(&db);
  }
}

TEST(ArrowIpcDuckDb, StringViewWhenDuckDbProducesIt) {
  auto wh = warehouse::open_duckdb(":memory:");
  ASSERT_TRUE(wh.ok());
  ASSERT_TRUE((*wh)->execute("SET produce_arrow_string_view = true").ok());
  ASSERT_TRUE((*wh)->execute("SET arrow_output_version = '1.4'").ok());
  DuckBatches duck = run_duck(**wh,
                              "SELECT CASE WHEN i % 4 = 0 THEN NULL ELSE repeat('v', i % 30) END AS s, "
                              "encode(repeat('b', i % 17)) AS bl FROM range(0, 3000) t(i)");
  ASSERT_FALSE(duck.batches.empty());
  EXPECT_STREQ(duck.schema->children[0]->format, "vu");
  EXPECT_STREQ(duck.schema->children[1]->format, "vz");
  expect_round_trip(*duck.schema.get(), ptrs(duck.batches));
}

TEST(ArrowIpcDuckDb, EmptyResult) {
  auto wh = warehouse::open_duckdb(":memory:");
  ASSERT_TRUE(wh.ok());
  DuckBatches duck = run_duck(**wh, "SELECT 1::INTEGER AS a, 'x' AS b WHERE false");
  Bytes bytes = write_stream(*duck.schema.get(), ptrs(duck.batches));
  ReadStream got = read_stream(bytes);
  EXPECT_EQ(got.batches.size(), duck.batches.size());
  EXPECT_EQ(got.schema->n_children, 2);
}

// ---------------------------------------------------------------------------
// Malformed input

Bytes frame(const flatbuffers::FlatBufferBuilder& fbb, const Bytes& body) {
  Bytes out(8, 0);
  const uint32_t cont = 0xFFFFFFFF;
  const size_t padded = (fbb.GetSize() + 7) / 8 * 8;
  const int32_t len = static_cast<int32_t>(padded);
  std::memcpy(out.data(), &cont, 4);
  std::memcpy(out.data() + 4, &len, 4);
  out.insert(out.end(), fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  out.resize(8 + padded, 0);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

struct BufferSpec {
  int64_t offset, length;
};

Bytes record_batch(int64_t length, const std::vector<std::pair<int64_t, int64_t>>& nodes,
                   const std::vector<BufferSpec>& buffers, const Bytes& body, int64_t body_length = -1,
                   std::optional<fb::CompressionType> codec = std::nullopt) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<fb::FieldNode> n;
  for (auto [l, c] : nodes) n.emplace_back(l, c);
  std::vector<fb::Buffer> b;
  for (auto s : buffers) b.emplace_back(s.offset, s.length);
  auto nv = fbb.CreateVectorOfStructs(n);
  auto bv = fbb.CreateVectorOfStructs(b);
  flatbuffers::Offset<fb::BodyCompression> comp = 0;
  if (codec) comp = fb::CreateBodyCompression(fbb, *codec);
  auto rb = fb::CreateRecordBatch(fbb, length, nv, bv, comp);
  auto msg = fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_RecordBatch, rb.Union(),
                               body_length < 0 ? static_cast<int64_t>(body.size()) : body_length);
  fbb.Finish(msg);
  return frame(fbb, body);
}

Bytes schema_message(const std::vector<Column>& cols) {
  Batch b = make_batch(cols);
  IpcEncoder enc;
  EXPECT_TRUE(enc.set_schema(*b.c_schema.get()).ok());
  EncodedMessage m = enc.schema_message();
  Bytes out;
  EXPECT_TRUE(write_framed(m, [&](ByteSpan s) {
                out.insert(out.end(), s.begin(), s.end());
                return ok_status();
              }).ok());
  return out;
}

template <typename T>
Bytes le(std::initializer_list<T> values) {
  Bytes out;
  for (T v : values) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
  }
  while (out.size() % 8) out.push_back(0);
  return out;
}

Status read_all(const Bytes& bytes, ReaderOptions options = {}) {
  auto r = read_ipc_stream(bytes, options);
  return r.ok() ? ok_status() : Status(r.error());
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const std::vector<Column>& utf8_schema() {
  static const std::vector<Column> cols = {testing::var_binary("s", "u", {"x"})};
  return cols;
}

TEST(ArrowIpcMalformed, HandCraftedValidBatchIsAccepted) {
  // The baseline the malformed cases below modify: one utf8 column ["ab", "cd"].
  Bytes body = cat({le<int32_t>({0, 2, 4}), Bytes{'a', 'b', 'c', 'd', 0, 0, 0, 0}});
  Bytes ok = cat({schema_message(utf8_schema()), record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}}, body)});
  ASSERT_TRUE(read_all(ok).ok()) << read_all(ok).error().to_string();
}

TEST(ArrowIpcMalformed, RejectedWithClearErrors) {
  const Bytes schema = schema_message(utf8_schema());
  const Bytes body = cat({le<int32_t>({0, 2, 4}), Bytes{'a', 'b', 'c', 'd', 0, 0, 0, 0}});
  struct Case {
    std::string name;
    Bytes stream;
    std::string expect;  // substring of the error message
  };
  std::vector<Case> cases = {
      {"buffer beyond body", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 40}}, body)}), "outside"},
      {"negative buffer offset", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {-8, 12}, {16, 4}}, body)}), "outside"},
      {"unaligned buffer", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {13, 3}}, body)}), "unaligned"},
      {"unaligned offsets buffer", cat({schema, record_batch(2, {{2, 0}}, {{3, 0}, {4, 12}, {16, 4}}, body)}), "unaligned"},
      {"too few buffers", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}}, body)}), "fewer buffers"},
      {"too many buffers", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}, {0, 0}}, body)}), "buffers"},
      {"no field nodes", cat({schema, record_batch(2, {}, {{0, 0}, {0, 12}, {16, 4}}, body)}), "field nodes"},
      {"offsets buffer too short", cat({schema, record_batch(3, {{3, 0}}, {{0, 0}, {0, 12}, {16, 4}}, body)}), "offsets buffer"},
      {"offsets decrease", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}},
                                                     cat({le<int32_t>({0, 3, 2}), Bytes{'a', 'b', 'c', 'd', 0, 0, 0, 0}}))}),
       "decrease"},
      {"offset past data", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}},
                                                     cat({le<int32_t>({0, 2, 9}), Bytes{'a', 'b', 'c', 'd', 0, 0, 0, 0}}))}),
       "beyond"},
      {"negative first offset", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}},
                                                          cat({le<int32_t>({-1, 2, 4}), Bytes{'a', 'b', 'c', 'd', 0, 0, 0, 0}}))}),
       "negative"},
      {"invalid utf8", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}},
                                                 cat({le<int32_t>({0, 2, 4}), Bytes{'a', 0xC3, 0x28, 'd', 0, 0, 0, 0}}))}),
       "UTF-8"},
      {"value splits a character", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}},
                                                             cat({le<int32_t>({0, 1, 4}), Bytes{0xC3, 0xA9, 'c', 'd', 0, 0, 0, 0}}))}),
       "splits"},
      {"null count larger than length", cat({schema, record_batch(2, {{2, 3}}, {{0, 0}, {0, 12}, {16, 4}}, body)}), "null count"},
      {"null count without bitmap", cat({schema, record_batch(2, {{2, 1}}, {{0, 0}, {0, 12}, {16, 4}}, body)}), "validity bitmap"},
      {"null count disagrees with bitmap",
       cat({schema, record_batch(2, {{2, 1}}, {{0, 1}, {8, 12}, {24, 4}},
                                 cat({Bytes{0x3, 0, 0, 0, 0, 0, 0, 0}, body}))}),
       "null_count"},
      {"negative length", cat({schema, record_batch(-1, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}}, body)}), "length"},
      {"column shorter than batch", cat({schema, record_batch(5, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}}, body)}), "rows"},
      {"body length lies (too long)", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}}, body, 1 << 20)}), "ends inside"},
      {"absurd body length", cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}}, body, int64_t{1} << 40)}), "body"},
      {"record batch before schema", record_batch(2, {{2, 0}}, {{0, 0}, {0, 12}, {16, 4}}, body), "before the Schema"},
      {"second schema", cat({schema, schema}), "second Schema"},
      {"truncated", Bytes(schema.begin(), schema.end() - 3), "ends inside"},
      {"absurd metadata length", Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, "metadata length"},
      {"negative metadata length", Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x80}, "metadata length"},
      {"garbage flatbuffer", cat({Bytes{0xFF, 0xFF, 0xFF, 0xFF, 16, 0, 0, 0}, Bytes(16, 0xAB)}), "flatbuffer"},
      {"empty stream", Bytes{}, "before its Schema"},
      {"data after end of stream", cat({schema, Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}, schema}), "end-of-stream"},
  };
  for (const auto& c : cases) {
    Status st = read_all(c.stream);
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.error().message().find(c.expect), std::string::npos) << c.name << ": " << st.error().to_string();
  }
}

TEST(ArrowIpcMalformed, CompressedBuffersAreBounded) {
  const Bytes schema = schema_message({testing::primitive<int64_t>("x", "l", {1, 2})});
  // Declared uncompressed length far beyond what 8 compressed bytes can hold.
  Bytes body = cat({le<int64_t>({int64_t{1} << 40}), Bytes(8, 0x11)});
  Status st = read_all(cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 16}}, body, -1, fb::CompressionType_ZSTD)}));
  ASSERT_FALSE(st.ok());
  // Above the configured per-message limit.
  ReaderOptions small;
  small.max_decompressed_bytes = 8;
  body = cat({le<int64_t>({16}), Bytes(8, 0x11)});
  st = read_all(cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 16}}, body, -1, fb::CompressionType_LZ4_FRAME)}), small);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kLimitExceeded);
  // A frame that is not LZ4 / decodes to another size.
  st = read_all(cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, 16}}, body, -1, fb::CompressionType_LZ4_FRAME)}));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("LZ4_FRAME"), std::string::npos) << st.error().to_string();
  // A genuine frame whose declared length is wrong.
  CodecContext cc;
  Bytes frame_bytes;
  const int64_t values[2] = {1, 2};
  ASSERT_TRUE(cc.compress(Codec::kZstd, ByteSpan(reinterpret_cast<const uint8_t*>(values), 16), 1, &frame_bytes).ok());
  body = cat({le<int64_t>({24}), frame_bytes});
  while (body.size() % 8) body.push_back(0);
  st = read_all(cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, static_cast<int64_t>(8 + frame_bytes.size())}}, body, -1,
                                          fb::CompressionType_ZSTD)}));
  ASSERT_FALSE(st.ok());
  // ... and correct.
  body = cat({le<int64_t>({16}), frame_bytes});
  while (body.size() % 8) body.push_back(0);
  st = read_all(cat({schema, record_batch(2, {{2, 0}}, {{0, 0}, {0, static_cast<int64_t>(8 + frame_bytes.size())}}, body, -1,
                                          fb::CompressionType_ZSTD)}));
  EXPECT_TRUE(st.ok()) << st.error().to_string();
}

TEST(ArrowIpcMalformed, DictionaryIndexOutOfRange) {
  auto values = testing::var_binary("v", "u", {"a", "b"});
  Batch good = make_batch({testing::dictionary<int32_t>("d", "i", values, {0, 1})});
  Batch bad = make_batch({testing::dictionary<int32_t>("d", "i", values, {0, 2})});
  EXPECT_TRUE(read_all(write_stream(*good.c_schema.get(), {good.array.get()})).ok());
  Status st = read_all(write_stream(*bad.c_schema.get(), {bad.array.get()}));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("dictionary index"), std::string::npos);
}

TEST(ArrowIpcMalformed, UnionTypeIdsAndOffsetsChecked) {
  auto i = testing::primitive<int32_t>("i", "i", {1, 2});
  auto s = testing::var_binary("s", "u", {"a", "b"});
  Batch bad_id = make_batch({testing::union_of("u", false, {i, s}, {0, 1}, {0, 3})});
  EXPECT_NE(read_all(write_stream(*bad_id.c_schema.get(), {bad_id.array.get()})).error().message().find("type id"),
            std::string::npos);
  Batch bad_offset = make_batch({testing::union_of("u", true, {i, s}, {0, 1}, {0, 1}, {0, 2})});
  EXPECT_NE(read_all(write_stream(*bad_offset.c_schema.get(), {bad_offset.array.get()})).error().message().find("offset"),
            std::string::npos);
}

TEST(ArrowIpcMalformed, NestingDepthLimited) {
  Column c = testing::primitive<int32_t>("leaf", "i", {1});
  for (int d = 0; d < 80; ++d) c = testing::struct_of("s" + std::to_string(d), {c}, {true});
  Batch b = make_batch({c});
  // Our own writer refuses to import it ...
  IpcEncoder enc;
  Status st = enc.set_schema(*b.c_schema.get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kLimitExceeded);
  // ... and the reader refuses such a schema from a peer.
  flatbuffers::FlatBufferBuilder fbb;
  Schema schema;
  Field leaf = testing::make_field("leaf", "i");
  for (int d = 0; d < 80; ++d) {
    Field s = testing::make_field("s", "+s");
    s.children.push_back(leaf);
    leaf = s;
  }
  schema.fields.push_back(leaf);
  // Build the Schema flatbuffer by hand (the encoder would refuse it).
  std::function<flatbuffers::Offset<fb::Field>(const Field&)> build = [&](const Field& f) {
    std::vector<flatbuffers::Offset<fb::Field>> kids;
    for (const auto& k : f.children) kids.push_back(build(k));
    auto kv = fbb.CreateVector(kids);
    auto name = fbb.CreateString(f.name);
    if (f.type.id == TypeId::kStruct) return fb::CreateField(fbb, name, true, fb::Type_Struct_, fb::CreateStruct_(fbb).Union(), 0, kv);
    return fb::CreateField(fbb, name, true, fb::Type_Int, fb::CreateInt(fbb, 32, true).Union(), 0, kv);
  };
  auto field = build(schema.fields[0]);
  auto fields = fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Field>>{field});
  auto s = fb::CreateSchema(fbb, fb::Endianness_Little, fields);
  fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_Schema, s.Union(), 0));
  st = read_all(frame(fbb, {}));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().code() == ErrorCode::kLimitExceeded || st.error().code() == ErrorCode::kProtocol)
      << st.error().to_string();
}

TEST(ArrowIpcMalformed, BigEndianRefused) {
  flatbuffers::FlatBufferBuilder fbb;
  auto s = fb::CreateSchema(fbb, fb::Endianness_Big);
  fbb.Finish(fb::CreateMessage(fbb, fb::MetadataVersion_V5, fb::MessageHeader_Schema, s.Union(), 0));
  Status st = read_all(frame(fbb, {}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kUnsupported);
}

TEST(ArrowIpcMalformed, EveryTruncationAndByteFlipIsHandled) {
  Batch b = make_batch(all_types_columns(6));
  WriterOptions lz4;
  lz4.compression = Codec::kLz4Frame;
  for (const WriterOptions& options : {WriterOptions{}, lz4}) {
    const Bytes bytes = write_stream(*b.c_schema.get(), {b.array.get()}, options);
    // Every cut: an error unless it falls on a message boundary.
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      IpcStreamReader reader;
      Status st = reader.feed(ByteSpan(bytes).first(cut));
      if (st.ok()) st = reader.finish();
      if (st.ok()) {
        EXPECT_TRUE(reader.has_schema());
      }
    }
    // Every single-byte corruption: decoded or rejected, never a crash.
    std::mt19937 rng(42);
    int rejected = 0;
    for (size_t pos = 0; pos < bytes.size(); ++pos) {
      Bytes copy = bytes;
      copy[pos] ^= static_cast<uint8_t>(1 + rng() % 255);
      auto r = read_ipc_stream(copy);
      if (!r.ok()) {
        ++rejected;
        continue;
      }
      // Whatever was accepted must be renderable (all offsets in range).
      auto j = to_canonical_json(*r->schema.get(), ptrs(r->batches));
      EXPECT_TRUE(j.ok());
    }
    EXPECT_GT(rejected, 0);
  }
}

TEST(ArrowIpcWriter, RejectsBadInput) {
  Batch b = make_batch(all_types_columns(3));
  IpcStreamWriter writer([](ByteSpan) { return ok_status(); });
  EXPECT_FALSE(writer.write_batch(*b.array.get()).ok());  // before the schema
  ASSERT_TRUE(writer.write_schema(*b.c_schema.get()).ok());
  EXPECT_FALSE(writer.write_schema(*b.c_schema.get()).ok());  // twice
  Batch other = make_batch({testing::primitive<int32_t>("x", "i", {1})});
  EXPECT_FALSE(writer.write_batch(*other.array.get()).ok());  // wrong column count
  ASSERT_TRUE(writer.write_batch(*b.array.get()).ok());
  ASSERT_TRUE(writer.finish().ok());
  EXPECT_FALSE(writer.write_batch(*b.array.get()).ok());  // after finish

  // Unsupported C formats are refused with kUnsupported.
  Field f = testing::make_field("x", "i");
  Schema s;
  s.fields.push_back(f);
  OwnedArrowSchema cs;
  ASSERT_TRUE(export_schema(s, cs.get()).ok());
  const char* saved = cs->children[0]->format;
  cs->children[0]->format = "+r";
  IpcEncoder enc;
  Status st = enc.set_schema(*cs.get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kUnsupported);
  cs->children[0]->format = saved;

  // A sink error stops the writer and is returned.
  IpcStreamWriter failing([](ByteSpan) { return Status(Error(ErrorCode::kIo, "disk full")); });
  st = failing.write_schema(*b.c_schema.get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "disk full");
}

TEST(ArrowSchema, FormatStringsRoundTrip) {
  for (const char* f : {"n", "b", "c", "C", "s", "S", "i", "I", "l", "L", "e", "f", "g", "z", "Z", "u", "U", "vz", "vu",
                        "w:16", "d:18,3", "d:76,20,256", "d:9,2,32", "tdD", "tdm", "tts", "ttm", "ttu", "ttn", "tss:",
                        "tsu:UTC", "tsn:Europe/Amsterdam", "tDs", "tDn", "tiM", "tiD", "tin", "+l", "+L", "+w:3", "+s",
                        "+m", "+us:0,1", "+ud:5,7", "+us:"}) {
    auto t = parse_format(f);
    ASSERT_TRUE(t.ok()) << f;
    EXPECT_EQ(format_string(*t), f);
  }
  for (const char* f : {"", "x", "+r", "+vl", "+vL", "d:1", "d:1,2,3", "w:-1", "w:x", "tsx:", "+us:1,", "+ud:200", "tdX"}) {
    EXPECT_FALSE(parse_format(f).ok()) << f;
  }
}

}  // namespace
}  // namespace syndb::arrow
