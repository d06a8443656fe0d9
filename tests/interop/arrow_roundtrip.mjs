// Arrow IPC interop with the reference JavaScript implementation
// (apache-arrow from node_modules), driven by tests/interop/arrow_ipc_interop_test.cc.
//
//   node arrow_roundtrip.mjs read FILE
//       Reads an IPC stream with tableFromIPC and prints the canonical JSON
//       of the table (the format of src/arrow/json.h) on stdout.
//   node arrow_roundtrip.mjs write FILE [--compression lz4|zstd]
//       Builds a table of every type apache-arrow supports (nulls, several
//       batches, an empty batch, dictionary replacement and delta), writes it
//       with tableToIPC(table, 'stream') to FILE, and prints the canonical
//       JSON of the table read back from those bytes.
//
// Compressed bodies: Arrow JS needs an application-registered codec; we
// register LZ4_FRAME and ZSTD codecs that run the reference `lz4` and `zstd`
// command-line tools, so no JS codec library is needed.
//
// Canonical JSON values: see src/arrow/json.h (64-bit integers and temporal
// values as decimal strings, floats as hex IEEE bits, decimals with their
// scale applied, binary as hex, ...).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { canonical } from './arrow_canonical.mjs';

const {
  Type, Field, Schema, Struct, RecordBatch, Table, Vector, makeData, tableFromIPC, tableToIPC,
  compressionRegistry, CompressionType,
} = arrow;

// ---------------------------------------------------------------------------
// codecs via the lz4 / zstd command-line tools

function cli(cmd, args) {
  return (bytes) => new Uint8Array(execFileSync(cmd, args, { input: bytes, maxBuffer: 1 << 30 }));
}
compressionRegistry.set(CompressionType.LZ4_FRAME, {
  encode: cli('lz4', ['-c', '-q']),
  decode: cli('lz4', ['-d', '-c', '-q']),
});
compressionRegistry.set(CompressionType.ZSTD, {
  encode: cli('zstd', ['-c', '-q']),
  decode: cli('zstd', ['-d', '-c', '-q']),
});

// ---------------------------------------------------------------------------
// building a table of every type

const isNull = (r) => r % 3 === 1;
const rowsOf = (n, seed) => Array.from({ length: n }, (_, r) => r + seed);
function validity(vals) {
  const bits = new Uint8Array(Math.max(1, (vals.length + 7) >> 3));
  let nulls = 0;
  vals.forEach((v, i) => { if (v === null) ++nulls; else bits[i >> 3] |= 1 << (i & 7); });
  return { nullCount: nulls, nullBitmap: nulls ? bits : null };
}
// Column values: null where isNull(row index), else fn(row + seed).
const gen = (n, seed, fn) => Array.from({ length: n }, (_, r) => (isNull(r) ? null : fn(r + seed)));

function prim(type, vals, Typed, zero = 0) {
  return makeData({ type, length: vals.length, ...validity(vals), data: Typed.from(vals.map((v) => v ?? zero)) });
}
function bools(vals) {
  const bits = new Uint8Array(Math.max(1, (vals.length + 7) >> 3));
  vals.forEach((v, i) => { if (v) bits[i >> 3] |= 1 << (i & 7); });
  return makeData({ type: new arrow.Bool(), length: vals.length, ...validity(vals), data: bits });
}
const enc = new TextEncoder();
function varBinary(type, vals, large = false) {
  const parts = vals.map((v) => (v === null ? new Uint8Array(0) : typeof v === 'string' ? enc.encode(v) : v));
  const offsets = [0];
  for (const p of parts) offsets.push(offsets[offsets.length - 1] + p.length);
  const data = new Uint8Array(offsets[offsets.length - 1]);
  parts.forEach((p, i) => data.set(p, offsets[i]));
  return makeData({
    type, length: vals.length, ...validity(vals), data,
    valueOffsets: large ? BigInt64Array.from(offsets.map(BigInt)) : Int32Array.from(offsets),
  });
}
function views(type, vals) {
  const parts = vals.map((v) => (v === null ? new Uint8Array(0) : typeof v === 'string' ? enc.encode(v) : v));
  const viewBytes = new Uint8Array(parts.length * 16);
  const dv = new DataView(viewBytes.buffer);
  const bufs = [[], []];
  const sizes = [0, 0];
  let next = 0;
  parts.forEach((p, i) => {
    dv.setInt32(i * 16, p.length, true);
    if (p.length <= 12) {
      viewBytes.set(p, i * 16 + 4);
    } else {
      viewBytes.set(p.subarray(0, 4), i * 16 + 4);
      dv.setInt32(i * 16 + 8, next, true);
      dv.setInt32(i * 16 + 12, sizes[next], true);
      bufs[next].push(p);
      sizes[next] += p.length;
      next ^= 1;
    }
  });
  const variadicBuffers = bufs.map((list, k) => {
    const out = new Uint8Array(sizes[k]);
    let o = 0;
    for (const p of list) { out.set(p, o); o += p.length; }
    return out;
  });
  return makeData({ type, length: vals.length, ...validity(vals), views: viewBytes, variadicBuffers });
}
function decimalWords(vals, bitWidth) {
  const n = bitWidth / 32;
  const words = new Uint32Array(vals.length * n);
  vals.forEach((v, i) => {
    let x = BigInt.asUintN(bitWidth, v ?? 0n);
    for (let k = 0; k < n; ++k) { words[i * n + k] = Number(x & 0xffffffffn); x >>= 32n; }
  });
  return words;
}
const WORDS = ['', 'a', 'héllo wörld', '∑ unicode ✓ 🎉', 'a string longer than twelve bytes', 'x\ny"z\\', 'twelve chars'];
const word = (r) => WORDS[r % WORDS.length];
const bytesOf = (r) => Uint8Array.from({ length: r % 19 }, (_, k) => (r * 31 + k * 7) & 0xff);

const f = (name, type, nullable = true) => new Field(name, type, nullable);

function listOf(type, child, sizes, large = false) {
  const offsets = [0];
  for (const s of sizes) offsets.push(offsets[offsets.length - 1] + (s ?? 0));
  return makeData({
    type, length: sizes.length, ...validity(sizes), child,
    valueOffsets: large ? BigInt64Array.from(offsets.map(BigInt)) : Int32Array.from(offsets),
  });
}

// The dictionaries: `colors` is replaced between batches, `sizes` grows by a delta.
const colorsA = arrow.makeVector(varBinary(new arrow.Utf8(), ['red', 'green', null, 'blue']));
const colorsB = arrow.makeVector(varBinary(new arrow.Utf8(), ['cyan', 'magenta']));
const sizesA = arrow.makeVector(varBinary(new arrow.Utf8(), ['S', 'M', 'L']));
const sizesB = sizesA.concat(arrow.makeVector(varBinary(new arrow.Utf8(), ['XL', 'XXL'])));

const dictColors = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), 0, false);
const dictSizes = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8(), 1, true);

const structType = new Struct([f('a', new arrow.Int32()), f('b', new arrow.Utf8(), false)]);
const entriesType = new Struct([f('key', new arrow.Utf8(), false), f('value', new arrow.Int64())]);
const sparseType = new arrow.SparseUnion([3, 9], [f('i', new arrow.Int32()), f('s', new arrow.Utf8())]);
const denseType = new arrow.DenseUnion([0, 1], [f('l', new arrow.Int64()), f('b', new arrow.Bool())]);

function columns(n, seed, batchIndex) {
  const cols = [];
  const add = (field, data) => cols.push([field, data]);
  add(f('null', new arrow.Null()), makeData({ type: new arrow.Null(), length: n }));
  add(f('bool', new arrow.Bool()), bools(gen(n, seed, (r) => r % 2 === 0)));
  add(f('int8', new arrow.Int8()), prim(new arrow.Int8(), gen(n, seed, (r) => (r % 5 === 0 ? -128 : ((r * 37) % 200) - 100)), Int8Array));
  add(f('int16', new arrow.Int16()), prim(new arrow.Int16(), gen(n, seed, (r) => (r * 1234) % 60000 - 30000), Int16Array));
  add(f('int32', new arrow.Int32()), prim(new arrow.Int32(), gen(n, seed, (r) => (r % 5 === 0 ? -2147483648 : r * 123457 - 2000000000)), Int32Array));
  add(f('int64', new arrow.Int64()), prim(new arrow.Int64(), gen(n, seed, (r) => (r % 5 === 0 ? -(2n ** 63n) : BigInt(r) * 1234567890123456789n % (2n ** 63n))), BigInt64Array, 0n));
  add(f('uint8', new arrow.Uint8()), prim(new arrow.Uint8(), gen(n, seed, (r) => (r * 37) % 256), Uint8Array));
  add(f('uint16', new arrow.Uint16()), prim(new arrow.Uint16(), gen(n, seed, (r) => (r % 5 === 0 ? 65535 : r * 1234)), Uint16Array));
  add(f('uint32', new arrow.Uint32()), prim(new arrow.Uint32(), gen(n, seed, (r) => (r % 5 === 0 ? 4294967295 : r * 123456789 % 4294967296)), Uint32Array));
  add(f('uint64', new arrow.Uint64()), prim(new arrow.Uint64(), gen(n, seed, (r) => (r % 5 === 0 ? 2n ** 64n - 1n : BigInt(r) * 12345678901234567n)), BigUint64Array, 0n));
  add(f('float16', new arrow.Float16()), prim(new arrow.Float16(), gen(n, seed, (r) => 0x3c00 + r * 0x111), Uint16Array));
  add(f('float32', new arrow.Float32()), prim(new arrow.Float32(), gen(n, seed, (r) => (r % 5 === 2 ? NaN : r * 1.5 - 3.25)), Float32Array));
  add(f('float64', new arrow.Float64()), prim(new arrow.Float64(), gen(n, seed, (r) => (r % 5 === 3 ? -Infinity : r * -2.0625e10 + 0.1)), Float64Array));
  add(f('utf8', new arrow.Utf8()), varBinary(new arrow.Utf8(), gen(n, seed, word)));
  add(f('large_utf8', new arrow.LargeUtf8()), varBinary(new arrow.LargeUtf8(), gen(n, seed, (r) => word(r + 3)), true));
  add(f('binary', new arrow.Binary()), varBinary(new arrow.Binary(), gen(n, seed, bytesOf)));
  add(f('large_binary', new arrow.LargeBinary()), varBinary(new arrow.LargeBinary(), gen(n, seed, (r) => bytesOf(r + 5)), true));
  add(f('utf8_view', new arrow.Utf8View()), views(new arrow.Utf8View(), gen(n, seed, (r) => word(r + 1))));
  add(f('binary_view', new arrow.BinaryView()), views(new arrow.BinaryView(), gen(n, seed, (r) => bytesOf(r + 11))));
  {
    const vals = gen(n, seed, (r) => bytesOf(r * 3 + 3).subarray(0, 3));
    const data = new Uint8Array(n * 3);
    vals.forEach((v, i) => { if (v) data.set(v, i * 3); });
    add(f('fixed_size_binary', new arrow.FixedSizeBinary(3)), makeData({ type: new arrow.FixedSizeBinary(3), length: n, ...validity(vals), data }));
  }
  add(f('date32', new arrow.DateDay()), prim(new arrow.DateDay(), gen(n, seed, (r) => r * 4000 - 9000), Int32Array));
  add(f('date64', new arrow.DateMillisecond()), prim(new arrow.DateMillisecond(), gen(n, seed, (r) => BigInt(r * 4000 - 9000) * 86400000n), BigInt64Array, 0n));
  add(f('time32_s', new arrow.TimeSecond()), prim(new arrow.TimeSecond(), gen(n, seed, (r) => (r * 3601) % 86400), Int32Array));
  add(f('time32_ms', new arrow.TimeMillisecond()), prim(new arrow.TimeMillisecond(), gen(n, seed, (r) => (r * 3601001) % 86400000), Int32Array));
  add(f('time64_us', new arrow.TimeMicrosecond()), prim(new arrow.TimeMicrosecond(), gen(n, seed, (r) => BigInt(r) * 3601000001n % 86400000000n), BigInt64Array, 0n));
  add(f('time64_ns', new arrow.TimeNanosecond()), prim(new arrow.TimeNanosecond(), gen(n, seed, (r) => BigInt(r) * 3601000000001n % 86400000000000n), BigInt64Array, 0n));
  add(f('timestamp_s', new arrow.TimestampSecond()), prim(new arrow.TimestampSecond(), gen(n, seed, (r) => BigInt(r) * 1000000007n - 3000000000n), BigInt64Array, 0n));
  add(f('timestamp_ms_utc', new arrow.TimestampMillisecond('UTC')), prim(new arrow.TimestampMillisecond('UTC'), gen(n, seed, (r) => BigInt(r) * 1000000000007n), BigInt64Array, 0n));
  add(f('timestamp_us', new arrow.TimestampMicrosecond()), prim(new arrow.TimestampMicrosecond(), gen(n, seed, (r) => BigInt(r) * 1700000000000001n - 5n), BigInt64Array, 0n));
  add(f('timestamp_ns_tz', new arrow.TimestampNanosecond('Europe/Amsterdam')), prim(new arrow.TimestampNanosecond('Europe/Amsterdam'), gen(n, seed, (r) => BigInt(r) * 1700000000000000001n / 7n), BigInt64Array, 0n));
  add(f('duration_us', new arrow.DurationMicrosecond()), prim(new arrow.DurationMicrosecond(), gen(n, seed, (r) => BigInt(r) * 86400001n - 7n), BigInt64Array, 0n));
  add(f('interval_ym', new arrow.IntervalYearMonth()), prim(new arrow.IntervalYearMonth(), gen(n, seed, (r) => r * 13 - 20), Int32Array));
  {
    const vals = gen(n, seed, (r) => [r * 3 - 4, r * 1000 + 1]);
    add(f('interval_dt', new arrow.IntervalDayTime()), makeData({ type: new arrow.IntervalDayTime(), length: n, ...validity(vals), data: Int32Array.from(vals.flatMap((v) => v ?? [0, 0])) }));
  }
  {
    const vals = gen(n, seed, (r) => [r - 2, r * 10, BigInt(r) * 1000000000123n - 1n]);
    const words = new Int32Array(n * 4);
    const big = new BigInt64Array(words.buffer);
    vals.forEach((v, i) => { if (v) { words[4 * i] = v[0]; words[4 * i + 1] = v[1]; big[2 * i + 1] = v[2]; } });
    add(f('interval_mdn', new arrow.IntervalMonthDayNano()), makeData({ type: new arrow.IntervalMonthDayNano(), length: n, ...validity(vals), data: words }));
  }
  for (const [name, p, s, w, fn] of [
    ['decimal_18_3', 18, 3, 128, (r) => BigInt(r) * 123456789012345n - 999999999999999999n],
    ['decimal_38_10', 38, 10, 128, (r) => (r % 2 ? -1n : 1n) * (BigInt(r) * 12345n << 64n | 987654321n)],
    ['decimal_60_5', 60, 5, 256, (r) => -(BigInt(r) << 190n) + 12345n],
  ]) {
    const vals = gen(n, seed, fn);
    add(f(name, new arrow.Decimal(s, p, w)), makeData({ type: new arrow.Decimal(s, p, w), length: n, ...validity(vals), data: decimalWords(vals, w) }));
  }
  {
    const sizes = gen(n, seed, (r) => r % 4);
    const total = sizes.reduce((a, s) => a + (s ?? 0), 0);
    const items = Array.from({ length: total }, (_, k) => (k % 4 === 3 ? null : k * 7 - 3));
    add(f('list_int32', new arrow.List(f('item', new arrow.Int32()))), listOf(new arrow.List(f('item', new arrow.Int32())), prim(new arrow.Int32(), items, Int32Array), sizes));
  }
  {
    const sizes = gen(n, seed, (r) => r % 3);
    const total = sizes.reduce((a, s) => a + (s ?? 0), 0);
    const items = Array.from({ length: total }, (_, k) => (k % 5 === 4 ? null : word(k)));
    const type = new arrow.LargeList(f('item', new arrow.Utf8()));
    add(f('large_list_utf8', type), listOf(type, varBinary(new arrow.Utf8(), items), sizes, true));
  }
  {
    const valid = Array.from({ length: n }, (_, r) => (isNull(r) ? null : true));
    const items = Array.from({ length: n * 2 }, (_, k) => (k % 4 === 1 ? null : k * 3 - seed));
    const type = new arrow.FixedSizeList(2, f('item', new arrow.Int16()));
    add(f('fixed_size_list', type), makeData({ type, length: n, ...validity(valid), child: prim(new arrow.Int16(), items, Int16Array) }));
  }
  {
    const valid = Array.from({ length: n }, (_, r) => (isNull(r) ? null : true));
    const a = Array.from({ length: n }, (_, r) => (r % 4 === 2 ? null : r + seed));
    const b = Array.from({ length: n }, (_, r) => word(r + 2));
    add(f('struct', structType), makeData({ type: structType, length: n, ...validity(valid), children: [prim(new arrow.Int32(), a, Int32Array), varBinary(new arrow.Utf8(), b)] }));
  }
  {
    const sizes = gen(n, seed, (r) => r % 3);
    const total = sizes.reduce((a, s) => a + (s ?? 0), 0);
    const keys = Array.from({ length: total }, (_, k) => 'k' + k);
    const vals = Array.from({ length: total }, (_, k) => (k % 3 === 1 ? null : BigInt(k) * 1000000007n));
    const entries = makeData({ type: entriesType, length: total, nullCount: 0, children: [varBinary(new arrow.Utf8(), keys), prim(new arrow.Int64(), vals, BigInt64Array, 0n)] });
    const type = new arrow.Map_(f('entries', entriesType, false));
    add(f('map', type), listOf(type, entries, sizes));
  }
  {
    const colors = batchIndex < 2 ? colorsA : colorsB;
    const idx = gen(n, seed, (r) => r % colors.length);
    add(f('dict_colors', dictColors), makeData({ type: dictColors, length: n, ...validity(idx), data: Int32Array.from(idx.map((v) => v ?? 0)), dictionary: colors }));
    const sizes = batchIndex < 2 ? sizesA : sizesB;
    const sidx = gen(n, seed, (r) => r % sizes.length);
    add(f('dict_sizes', dictSizes), makeData({ type: dictSizes, length: n, ...validity(sidx), data: Int8Array.from(sidx.map((v) => v ?? 0)), dictionary: sizes }));
  }
  {
    const ids = Int8Array.from(rowsOf(n, seed), (r) => (r % 2 ? 9 : 3));
    const is = Array.from({ length: n }, (_, r) => (r % 4 === 0 ? null : r * 11));
    const ss = Array.from({ length: n }, (_, r) => word(r));
    add(f('sparse_union', sparseType), makeData({ type: sparseType, length: n, typeIds: ids, children: [prim(new arrow.Int32(), is, Int32Array), varBinary(new arrow.Utf8(), ss)] }));
  }
  {
    const ids = [];
    const offsets = [];
    const ls = [];
    const bs = [];
    for (let r = 0; r < n; ++r) {
      if (r % 3 === 2) { ids.push(1); offsets.push(bs.length); bs.push(r % 2 ? true : null); }
      else { ids.push(0); offsets.push(ls.length); ls.push(BigInt(r) * -99n); }
    }
    add(f('dense_union', denseType), makeData({ type: denseType, length: n, typeIds: Int8Array.from(ids), valueOffsets: Int32Array.from(offsets), children: [prim(new arrow.Int64(), ls, BigInt64Array, 0n), bools(bs)] }));
  }
  return cols;
}

function buildTable() {
  const specs = [[5, 0], [0, 3], [9, 7]];
  let schema = null;
  const batches = specs.map(([n, seed], b) => {
    const cols = columns(n, seed, b);
    if (!schema) schema = new Schema(cols.map(([field]) => field));
    const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: cols.map(([, d]) => d) });
    return new RecordBatch(schema, data);
  });
  return new Table(batches);
}

// ---------------------------------------------------------------------------

function main() {
  const [mode, file, ...rest] = process.argv.slice(2);
  let compression = null;
  for (let i = 0; i < rest.length; ++i) {
    if (rest[i] === '--compression') {
      compression = { lz4: CompressionType.LZ4_FRAME, zstd: CompressionType.ZSTD }[rest[++i]];
      if (compression === undefined) throw new Error(`unknown compression ${rest[i]}`);
    }
  }
  if (mode === 'read') {
    const table = tableFromIPC(readFileSync(file));
    process.stdout.write(JSON.stringify(canonical(table)) + '\n');
  } else if (mode === 'write') {
    const bytes = tableToIPC(buildTable(), 'stream', compression);
    writeFileSync(file, bytes);
    // What a reader must see: the table as apache-arrow reads its own bytes back.
    process.stdout.write(JSON.stringify(canonical(tableFromIPC(bytes))) + '\n');
  } else {
    process.stderr.write('usage: arrow_roundtrip.mjs read FILE | write FILE [--compression lz4|zstd]\n');
    process.exit(2);
  }
}

main();
