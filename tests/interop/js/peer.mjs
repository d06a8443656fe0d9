// js-libp2p 3.x peer for syndb interop tests (TCP + Noise + Yamux, identify,
// ping, /echo/1.0.0, /perf/1.0.0). See README.md in this directory.
//
//   node tests/interop/js/peer.mjs <command> …
//   node --import ./tests/interop/js/polyfill.mjs tests/interop/js/peer.mjs <command> …
//
// The polyfill is the first static import below, so it is evaluated before
// any libp2p module; the --import form is equivalent and also fine.
import './polyfill.mjs'

import { performance } from 'node:perf_hooks'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const ECHO_PROTOCOL = '/echo/1.0.0'
const PERF_PROTOCOL = '/perf/1.0.0'
const CHUNK = 64 * 1024
const EXIT_GRACE_MS = 3000

// ---------------------------------------------------------------------------
// small helpers

function out (line) {
  process.stdout.write(line + '\n')
}

function fail (msg) {
  process.stderr.write(`error: ${String(msg).replace(/\s+/g, ' ')}\n`)
}

function usage () {
  process.stderr.write(`usage:
  peer.mjs listen [--port P] [--key-seed HEX64]
  peer.mjs ping <multiaddr> [--count N]
  peer.mjs identify <multiaddr>
  peer.mjs echo <multiaddr> --streams S --bytes B
  peer.mjs perf <multiaddr> --upload U --download D
`)
}

function parseArgs (argv) {
  const positional = []
  const opts = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      if (eq !== -1) {
        opts[a.slice(2, eq)] = a.slice(eq + 1)
      } else {
        if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`)
        opts[a.slice(2)] = argv[++i]
      }
    } else {
      positional.push(a)
    }
  }
  return { positional, opts }
}

function intOpt (opts, name, def) {
  const v = opts[name]
  if (v == null) {
    if (def === undefined) throw new Error(`--${name} is required`)
    return def
  }
  if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a non-negative integer, got "${v}"`)
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} too large: ${v}`)
  return n
}

/** Calls fn for every Uint8Array in a Uint8Array | Uint8ArrayList chunk. */
function forEachBuf (chunk, fn) {
  if (chunk instanceof Uint8Array) {
    fn(chunk)
  } else {
    for (const b of chunk) fn(b)
  }
}

/**
 * Wait for a 'drain' event (reject on 'close'). Deliberately not
 * stream.onDrain(): in @libp2p/utils 7.x that caches one promise per stream
 * and never clears it, so after the first drain it resolves immediately.
 */
function waitDrain (stream) {
  return new Promise((resolve, reject) => {
    const onDrain = () => { cleanup(); resolve() }
    const onClose = (evt) => { cleanup(); reject(evt?.error ?? new Error('stream closed while waiting for drain')) }
    const cleanup = () => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}

/** send() with back-pressure: waits for 'drain' when send() returns false. */
async function sendAll (stream, buf) {
  if (!stream.send(buf)) {
    await waitDrain(stream)
  }
}

/** Sends `total` bytes taken from `block` (a reusable constant buffer). */
async function sendConstant (stream, block, total) {
  let left = total
  while (left > 0) {
    const n = Math.min(left, block.byteLength)
    await sendAll(stream, block.subarray(0, n))
    left -= n
  }
}

/**
 * Deterministic pseudo-random byte source (xorshift32, little-endian words).
 * Stream i of the echo command uses seed (0x9E3779B9 * (i + 1)) >>> 0 | 1.
 */
class ByteGen {
  constructor (seed) {
    this.x = (seed >>> 0) || 1
    this.block = new Uint8Array(0)
    this.pos = 0
  }

  refill () {
    const words = new Uint32Array(CHUNK / 4)
    let x = this.x
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13; x >>>= 0
      x ^= x >>> 17
      x ^= x << 5; x >>>= 0
      words[i] = x
    }
    this.x = x
    this.block = new Uint8Array(words.buffer)
    this.pos = 0
  }

  /** Returns the next n bytes as a fresh Uint8Array. */
  next (n) {
    const res = new Uint8Array(n)
    let off = 0
    while (off < n) {
      if (this.pos === this.block.length) this.refill()
      const take = Math.min(n - off, this.block.length - this.pos)
      res.set(this.block.subarray(this.pos, this.pos + take), off)
      this.pos += take
      off += take
    }
    return res
  }
}

function streamSeed (i) {
  return (Math.imul(0x9E3779B9, i + 1) >>> 0) | 1
}

function u64be (n) {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, BigInt(n), false)
  return b
}

function toHex (u8) {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex')
}

function withTimeout (promise, ms, what) {
  let t
  return Promise.race([
    promise,
    new Promise((_resolve, reject) => {
      t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
    })
  ]).finally(() => clearTimeout(t))
}

// ---------------------------------------------------------------------------
// protocol handlers (served by every node, used by `listen`)

/** /echo/1.0.0: echo every byte until the remote half-closes, then close. */
async function handleEcho (stream) {
  try {
    for await (const chunk of stream) {
      if (stream.status !== 'open') break
      await sendAll(stream, chunk)
    }
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}

const ZERO_BLOCK = new Uint8Array(CHUNK)

/**
 * /perf/1.0.0 server (libp2p/specs perf/perf.md): read u64 BE N, read and
 * discard until EOF, send N bytes, close.
 */
async function handlePerf (stream) {
  try {
    const header = new Uint8Array(8)
    let have = 0
    for await (const chunk of stream) {
      if (have < 8) {
        forEachBuf(chunk, (b) => {
          if (have < 8) {
            const take = Math.min(8 - have, b.byteLength)
            header.set(b.subarray(0, take), have)
            have += take
          }
        })
      }
    }
    if (have < 8) throw new Error(`perf: stream ended after ${have} of 8 header bytes`)
    const toSend = new DataView(header.buffer).getBigUint64(0, false)
    if (toSend > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('perf: requested size too large')
    await sendConstant(stream, ZERO_BLOCK, Number(toSend))
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}

// ---------------------------------------------------------------------------
// node

async function makeNode ({ listen = [], keySeed, identifyOnOpen = true }) {
  const init = {
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      // tests dial from loopback in quick succession; the default is 5/s/host
      inboundConnectionThreshold: 10_000,
      maxIncomingPendingConnections: 1_000
    },
    services: {
      identify: identify({ runOnConnectionOpen: identifyOnOpen }),
      ping: ping()
    }
  }
  if (keySeed != null) {
    if (!/^[0-9a-fA-F]{64}$/.test(keySeed)) throw new Error('--key-seed must be 64 hex characters')
    init.privateKey = await generateKeyPairFromSeed('Ed25519', Buffer.from(keySeed, 'hex'))
  }
  const node = await createLibp2p(init)
  await node.handle(ECHO_PROTOCOL, handleEcho, { maxInboundStreams: 1024, maxOutboundStreams: 1024 })
  await node.handle(PERF_PROTOCOL, handlePerf, { maxInboundStreams: 64, maxOutboundStreams: 64 })
  return node
}

async function stopNode (node) {
  try {
    await withTimeout(node.stop(), EXIT_GRACE_MS, 'libp2p stop')
  } catch { }
}

// ---------------------------------------------------------------------------
// commands

async function cmdListen (opts) {
  const port = intOpt(opts, 'port', 0)
  const node = await makeNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`], keySeed: opts['key-seed'] })

  node.addEventListener('peer:identify', (evt) => {
    const r = evt.detail
    out(`peer ${r.peerId.toString()} protocols=${(r.protocols ?? []).join(',')}`)
  })

  const id = node.peerId.toString()
  for (const ma of node.getMultiaddrs()) {
    let s = ma.toString()
    if (!s.includes('/p2p/')) s += `/p2p/${id}`
    out(`listening ${s}`)
  }
  out('ready')

  await new Promise((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  await stopNode(node)
  return 0
}

async function dialTarget (node, target) {
  if (target == null) throw new Error('missing <multiaddr>')
  return await node.dial(multiaddr(target))
}

async function cmdPing (target, opts) {
  const count = intOpt(opts, 'count', 3)
  const node = await makeNode({})
  try {
    const conn = await dialTarget(node, target)
    for (let i = 0; i < count; i++) {
      const rtt = await node.services.ping.ping(conn.remotePeer)
      out(`rtt_ms=${rtt}`)
    }
  } finally {
    await stopNode(node)
  }
  return 0
}

async function cmdIdentify (target) {
  // identify is run explicitly (not on connection open) so that a failure
  // surfaces as an error here instead of being swallowed by the library
  const node = await makeNode({ identifyOnOpen: false })
  try {
    const conn = await dialTarget(node, target)
    const r = await node.services.identify.identify(conn, { signal: AbortSignal.timeout(10_000) })
    const pk = r.publicKey ?? (r.peerId.publicKey != null ? publicKeyToProtobuf(r.peerId.publicKey) : null)
    out(JSON.stringify({
      peerId: r.peerId.toString(),
      publicKeyHex: pk == null ? null : toHex(pk),
      protocols: r.protocols ?? [],
      listenAddrs: (r.listenAddrs ?? []).map(a => a.toString()),
      agentVersion: r.agentVersion ?? null,
      protocolVersion: r.protocolVersion ?? null,
      observedAddr: r.observedAddr == null ? null : r.observedAddr.toString(),
      signedPeerRecord: r.signedPeerRecord == null
        ? null
        : { seq: String(r.signedPeerRecord.seq), addresses: r.signedPeerRecord.addresses.map(a => a.toString()) }
    }))
  } finally {
    await stopNode(node)
  }
  return 0
}

async function echoOne (conn, index, size) {
  const stream = await conn.newStream(ECHO_PROTOCOL, { maxOutboundStreams: 1024 })
  const tx = new ByteGen(streamSeed(index))
  const rx = new ByteGen(streamSeed(index))
  let received = 0

  const reader = (async () => {
    for await (const chunk of stream) {
      forEachBuf(chunk, (b) => {
        if (received + b.byteLength > size) {
          throw new Error(`stream ${index}: received more than the ${size} bytes sent`)
        }
        const expect = rx.next(b.byteLength)
        if (!Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(expect)) {
          throw new Error(`stream ${index}: echoed bytes differ in [${received}, ${received + b.byteLength})`)
        }
        received += b.byteLength
      })
    }
    if (received !== size) {
      throw new Error(`stream ${index}: echo ended after ${received} of ${size} bytes`)
    }
  })()

  const writer = (async () => {
    let left = size
    while (left > 0) {
      const n = Math.min(left, CHUNK)
      await sendAll(stream, tx.next(n))
      left -= n
    }
    await stream.close()
  })()

  try {
    await Promise.all([reader, writer])
  } catch (err) {
    stream.abort(err)
    // let the other task settle so its rejection is not unhandled
    await Promise.allSettled([reader, writer])
    throw err
  }
}

async function cmdEcho (target, opts) {
  const streams = intOpt(opts, 'streams', 1)
  const bytes = intOpt(opts, 'bytes')
  if (streams < 1) throw new Error('--streams must be >= 1')
  const node = await makeNode({})
  try {
    const conn = await dialTarget(node, target)
    const base = Math.floor(bytes / streams)
    const extra = bytes % streams
    const t0 = performance.now()
    await Promise.all(Array.from({ length: streams }, (_, i) =>
      echoOne(conn, i, base + (i < extra ? 1 : 0))))
    const seconds = (performance.now() - t0) / 1000
    out(JSON.stringify({ streams, bytes, ok: true, seconds }))
  } finally {
    await stopNode(node)
  }
  return 0
}

async function cmdPerf (target, opts) {
  const upload = intOpt(opts, 'upload')
  const download = intOpt(opts, 'download')
  const node = await makeNode({})
  try {
    const conn = await dialTarget(node, target)
    const t0 = performance.now()
    const stream = await conn.newStream(PERF_PROTOCOL)
    let received = 0
    const reader = (async () => {
      for await (const chunk of stream) {
        received += chunk.byteLength
      }
    })()
    const writer = (async () => {
      await sendAll(stream, u64be(download))
      await sendConstant(stream, ZERO_BLOCK, upload)
      await stream.close()
    })()
    try {
      await Promise.all([reader, writer])
    } catch (err) {
      stream.abort(err)
      await Promise.allSettled([reader, writer])
      throw err
    }
    const seconds = (performance.now() - t0) / 1000
    if (received !== download) {
      throw new Error(`perf: expected ${download} bytes, received ${received}`)
    }
    out(JSON.stringify({
      upload_bytes: upload,
      download_bytes: download,
      seconds,
      upload_MBps: upload / seconds / 1e6,
      download_MBps: download / seconds / 1e6
    }))
  } finally {
    await stopNode(node)
  }
  return 0
}

// ---------------------------------------------------------------------------

async function main () {
  const [command, ...rest] = process.argv.slice(2)
  const { positional, opts } = parseArgs(rest)
  switch (command) {
    case 'listen': return await cmdListen(opts)
    case 'ping': return await cmdPing(positional[0], opts)
    case 'identify': return await cmdIdentify(positional[0])
    case 'echo': return await cmdEcho(positional[0], opts)
    case 'perf': return await cmdPerf(positional[0], opts)
    default:
      usage()
      return 2
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    fail(err?.message ?? err)
    process.exit(1)
  }
)
