// Flight SQL interop: real clients nobody here wrote, against `syndb hub`.
// Driven by tests/interop/flight_interop_test.cc.
//
//   node flight_sql_client.mjs HOST PORT TOKEN QUERIES.json
//
// For every SQL string in QUERIES.json it prints the canonical JSON
// (arrow_canonical.mjs) of the result as fetched by
//   - @lakehouse-rs/flight-sql-client (the Rust arrow-flight Flight SQL
//     client: CreatePreparedStatement -> GetFlightInfo -> DoGet), and
//   - plain @grpc/grpc-js + apache-arrow: GetFlightInfo(CommandStatementQuery)
//     then DoGet, the FlightData messages re-framed as an IPC stream.
// It also lists the tables through getTables and records what each client
// gets with a wrong token. Output: one JSON object on stdout.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { tableFromIPC } from 'apache-arrow';
import { createFlightSqlClient } from '@lakehouse-rs/flight-sql-client';
import { canonical } from './arrow_canonical.mjs';

const [host, port, token, queriesFile] = process.argv.slice(2);
if (!queriesFile) {
  console.error('usage: flight_sql_client.mjs HOST PORT TOKEN QUERIES.json');
  process.exit(2);
}
const queries = JSON.parse(readFileSync(queriesFile, 'utf8'));
const protoDir = join(dirname(fileURLToPath(import.meta.url)), '../../proto/flight');

// --- raw Flight over grpc-js -------------------------------------------------
const def = protoLoader.loadSync(join(protoDir, 'flight.proto'), { keepCase: true, longs: String, defaults: true });
const { FlightService } = grpc.loadPackageDefinition(def).arrow.flight.protocol;
const flight = new FlightService(`${host}:${port}`, grpc.credentials.createInsecure(), {
  'grpc.max_receive_message_length': -1,
});
const sqlRoot = protobuf.loadSync(join(protoDir, 'flight_sql.proto'));

function packAny(typeName, fields) {
  const type = sqlRoot.lookupType(`arrow.flight.protocol.sql.${typeName}`);
  const value = type.encode(type.create(fields)).finish();
  return protobuf.Writer.create()
    .uint32(10).string(`type.googleapis.com/arrow.flight.protocol.sql.${typeName}`)
    .uint32(18).bytes(value)
    .finish();
}

function metadata(tok) {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${tok}`);
  return md;
}

function getFlightInfo(cmd, tok) {
  return new Promise((resolve, reject) => {
    flight.GetFlightInfo({ type: 'CMD', cmd }, metadata(tok), (err, info) => (err ? reject(err) : resolve(info)));
  });
}

// FlightData -> encapsulated IPC messages (continuation, length, header, padding, body) + end-of-stream.
function reframe(messages) {
  const parts = [];
  for (const m of messages) {
    const header = m.data_header;
    const padded = (header.length + 7) & ~7;
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32LE(0xffffffff, 0);
    prefix.writeInt32LE(padded, 4);
    parts.push(prefix, header, Buffer.alloc(padded - header.length), m.data_body);
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

// Resolves to the data messages; `trailers` gets every non-empty
// app_metadata (the hub puts the provenance on the last message).
function doGet(ticket, tok, trailers = []) {
  return new Promise((resolve, reject) => {
    const messages = [];
    const call = flight.DoGet({ ticket }, metadata(tok));
    call.on('data', (m) => {
      if (m.data_header.length > 0) messages.push(m);
      if (m.app_metadata.length > 0) trailers.push(m.app_metadata.toString('utf8'));
    });
    call.on('error', reject);
    call.on('end', () => resolve(messages));
  });
}

async function viaGrpc(sql) {
  const info = await getFlightInfo(packAny('CommandStatementQuery', { query: sql }), token);
  if (info.endpoint.length !== 1) throw new Error(`expected one endpoint, got ${info.endpoint.length}`);
  const trailers = [];
  const messages = await doGet(info.endpoint[0].ticket.ticket, token, trailers);
  out.grpc_provenance.push(trailers.length === 1 ? JSON.parse(trailers[0]) : { trailers: trailers.length });
  const table = tableFromIPC(reframe(messages));
  // The FlightInfo schema must describe the stream exactly.
  const planned = tableFromIPC(Buffer.concat([info.schema, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]));
  const same = JSON.stringify(canonical(planned).fields) === JSON.stringify(canonical(table).fields);
  if (!same) throw new Error('FlightInfo.schema differs from the DoGet stream schema');
  return canonical(table);
}

// --- the Rust Flight SQL client ------------------------------------------------
const rust = await createFlightSqlClient({ host, port: Number(port), tls: false, headers: [], token });

const out = { rust: [], grpc: [], grpc_provenance: [] };
for (const sql of queries) {
  try {
    out.rust.push(canonical(tableFromIPC(await rust.query(sql))));
  } catch (e) {
    out.rust.push({ error: String(e) });
  }
  try {
    out.grpc.push(await viaGrpc(sql));
  } catch (e) {
    out.grpc.push({ error: String(e.details ?? e) });
  }
}
const tables = tableFromIPC(await rust.getTables({ includeSchema: true }));
out.tables = tables.toArray().map((r) => r.table_name);
out.table_schema_bytes = tables.toArray().map((r) => r.table_schema.length);

try {
  await getFlightInfo(packAny('CommandStatementQuery', { query: 'SELECT 1' }), 'wrong-token');
  out.bad_token_grpc_code = 0;
} catch (e) {
  out.bad_token_grpc_code = e.code;
}
try {
  const bad = await createFlightSqlClient({ host, port: Number(port), tls: false, headers: [], token: 'wrong-token' });
  await bad.query('SELECT 1');
  out.bad_token_rust = 'accepted';
} catch (e) {
  out.bad_token_rust = String(e);
}
flight.close();
console.log(JSON.stringify(out));
