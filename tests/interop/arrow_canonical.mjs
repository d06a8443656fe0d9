// Canonical JSON of an Arrow JS table, the format of src/arrow/json.h:
// shared by the interop scripts (arrow_roundtrip.mjs, flight_sql_client.mjs).
import * as arrow from 'apache-arrow';

const { Type } = arrow;

// ---------------------------------------------------------------------------
// canonical JSON

const UNITS = ['s', 'ms', 'us', 'ns'];

function typeName(t) {
  switch (t.typeId) {
    case Type.Null: return 'null';
    case Type.Bool: return 'bool';
    case Type.Int: return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
    case Type.Float: return ['float16', 'float32', 'float64'][t.precision];
    case Type.Decimal: return `decimal${t.bitWidth}(${t.precision},${t.scale})`;
    case Type.Date: return t.unit === 0 ? 'date32' : 'date64';
    case Type.Time: return `time${t.bitWidth}[${UNITS[t.unit]}]`;
    case Type.Timestamp: return `timestamp[${UNITS[t.unit]}${t.timezone ? ', ' + t.timezone : ''}]`;
    case Type.Duration: return `duration[${UNITS[t.unit]}]`;
    case Type.Interval: return ['interval[year_month]', 'interval[day_time]', 'interval[month_day_nano]'][t.unit];
    case Type.FixedSizeBinary: return `fixed_size_binary(${t.byteWidth})`;
    case Type.Binary: return 'binary';
    case Type.LargeBinary: return 'large_binary';
    case Type.Utf8: return 'utf8';
    case Type.LargeUtf8: return 'large_utf8';
    case Type.BinaryView: return 'binary_view';
    case Type.Utf8View: return 'utf8_view';
    case Type.List: return 'list';
    case Type.LargeList: return 'large_list';
    case Type.FixedSizeList: return `fixed_size_list(${t.listSize})`;
    case Type.Struct: return 'struct';
    case Type.Map: return t.keysSorted ? 'map(sorted)' : 'map';
    case Type.Union: return `${t.mode === 0 ? 'sparse' : 'dense'}_union[${Array.from(t.typeIds).join(',')}]`;
    default: throw new Error(`unsupported type ${t}`);
  }
}

function fieldJson(f) {
  const t = f.type;
  const dict = t.typeId === Type.Dictionary;
  const vt = dict ? t.dictionary : t;
  const j = { name: f.name, type: typeName(vt), nullable: f.nullable };
  if (vt.children && vt.children.length) j.children = vt.children.map(fieldJson);
  if (dict) j.dictionary = { index: typeName(t.indices), ordered: !!t.isOrdered };
  return j;
}

const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const hexBits = (v, digits) => '0x' + v.toString(16).padStart(digits, '0');
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decimalString(words, scale) {
  // words: little-endian uint32 limbs of a two's complement integer
  let v = 0n;
  for (let k = words.length - 1; k >= 0; --k) v = (v << 32n) | BigInt(words[k]);
  const bits = BigInt(words.length * 32);
  if (v >> (bits - 1n)) v -= 1n << bits;
  const negative = v < 0n;
  let s = (negative ? -v : v).toString();
  if (scale > 0) {
    if (s.length <= scale) s = '0'.repeat(scale + 1 - s.length) + s;
    s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
  } else if (scale < 0 && s !== '0') {
    s += '0'.repeat(-scale);
  }
  return negative && /[1-9]/.test(s) ? '-' + s : s;
}

function dictionaryValue(dictVector, k) {
  for (const d of dictVector.data) {
    if (k < d.length) return value(d, k);
    k -= d.length;
  }
  throw new Error('dictionary index out of range');
}

// The value of slot i (relative to data.offset) as canonical JSON.
function value(d, i) {
  const t = d.type;
  if (t.typeId === Type.Null) return null;
  if (t.typeId !== Type.Union && d.nullCount > 0 && !d.getValid(i)) return null;
  const j = d.offset + i;
  switch (t.typeId) {
    case Type.Dictionary: return dictionaryValue(d.dictionary, Number(d.values[j]));
    case Type.Bool: return ((d.values[j >> 3] >> (j & 7)) & 1) === 1;
    case Type.Int: return t.bitWidth === 64 ? d.values[j].toString() : Number(d.values[j]);
    case Type.Float: {
      const v = d.values;
      if (t.precision === 0) return hexBits(v[j], 4);
      if (t.precision === 1) return hexBits(new Uint32Array(v.buffer, v.byteOffset, v.length)[j], 8);
      return hexBits(new BigUint64Array(v.buffer, v.byteOffset, v.length)[j], 16);
    }
    case Type.Decimal: {
      const n = t.bitWidth / 32;
      return decimalString(d.values.subarray(j * n, (j + 1) * n), t.scale);
    }
    case Type.Date: return t.unit === 0 ? d.values[j] : d.values[j].toString();
    case Type.Time: return t.bitWidth === 32 ? d.values[j] : d.values[j].toString();
    case Type.Timestamp:
    case Type.Duration: return d.values[j].toString();
    case Type.Interval: {
      const v = d.values;  // Int32Array
      if (t.unit === 0) return v[j];
      if (t.unit === 1) return [v[2 * j], v[2 * j + 1]];
      const nanos = new BigInt64Array(v.buffer, v.byteOffset, v.length / 2)[2 * j + 1];
      return [v[4 * j], v[4 * j + 1], nanos.toString()];
    }
    case Type.FixedSizeBinary: return hex(d.values.subarray(j * t.byteWidth, (j + 1) * t.byteWidth));
    case Type.Binary:
    case Type.LargeBinary:
    case Type.Utf8:
    case Type.LargeUtf8: {
      const o = d.valueOffsets;
      const bytes = d.values.subarray(Number(o[j]), Number(o[j + 1]));
      return t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8 ? utf8.decode(bytes) : hex(bytes);
    }
    case Type.BinaryView:
    case Type.Utf8View: {
      const v = d.values;
      const view = new DataView(v.buffer, v.byteOffset + j * 16, 16);
      const len = view.getInt32(0, true);
      const bytes = len <= 12
        ? v.subarray(j * 16 + 4, j * 16 + 4 + len)
        : d.variadicBuffers[view.getInt32(8, true)].subarray(view.getInt32(12, true), view.getInt32(12, true) + len);
      return t.typeId === Type.Utf8View ? utf8.decode(bytes) : hex(bytes);
    }
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const o = d.valueOffsets;
      const out = [];
      for (let k = Number(o[j]); k < Number(o[j + 1]); ++k) out.push(value(d.children[0], k));
      return out;
    }
    case Type.FixedSizeList: {
      const out = [];
      for (let k = 0; k < t.listSize; ++k) out.push(value(d.children[0], j * t.listSize + k));
      return out;
    }
    case Type.Struct: return d.children.map((c) => value(c, j));
    case Type.Union: {
      const id = d.typeIds[j];
      const child = d.children[t.typeIdToChildIndex[id]];
      const k = t.mode === 0 ? j : d.valueOffsets[j];
      return [id, value(child, k)];
    }
    default: throw new Error(`unsupported type ${t}`);
  }
}

export function canonical(table) {
  const fields = table.schema.fields.map(fieldJson);
  const batches = table.batches.map((b) => b.numRows);
  const columns = table.schema.fields.map((_, k) => {
    const out = [];
    for (const b of table.batches) {
      const d = b.data.children[k];
      for (let i = 0; i < b.numRows; ++i) out.push(value(d, i));
    }
    return out;
  });
  return { fields, batches, columns };
}

