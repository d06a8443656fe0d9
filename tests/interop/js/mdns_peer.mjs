// js-libp2p 3.x peer with @libp2p/mdns, for checking syndb's mDNS discovery
// (libp2p/specs discovery/mdns.md) against js-libp2p. TCP + Noise + Yamux,
// identify and ping, listening on 127.0.0.1.
//
//   node tests/interop/js/mdns_peer.mjs [--port P] [--mdns-port 5353] [--interval MS]
//        [--expect PEERID] [--dial] [--timeout MS] [--key-seed HEX64]
//
// stdout, one line each:
//   listening <multiaddr>/p2p/<peerid>
//   ready
//   discovered <peerid> <multiaddr> …     (every peer:discovery event from mDNS)
//   ping <peerid> rtt_ms=<int>            (with --dial, after dialling the expected peer)
//
// Without --expect it runs until SIGTERM/SIGINT (exit 0). With --expect it
// exits 0 as soon as that peer is discovered (and, with --dial, dialled and
// pinged through the discovered addresses), or 1 after --timeout ms
// (default 30000) with one `error: …` line on stderr. Usage errors exit 2.
//
// @libp2p/mdns sends on the host's default multicast interface: run it in a
// network namespace that has only loopback when nothing may leave the host
// (see README.md).
import './polyfill.mjs'

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

function out (line) {
  process.stdout.write(line + '\n')
}

function fail (msg) {
  process.stderr.write(`error: ${String(msg).replace(/\s+/g, ' ')}\n`)
}

function parseArgs (argv) {
  const opts = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`)
    const name = a.slice(2)
    if (name === 'dial') {
      opts.dial = true
      continue
    }
    if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`)
    opts[name] = argv[++i]
  }
  return opts
}

function intOpt (opts, name, def) {
  const v = opts[name]
  if (v == null) return def
  if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a non-negative integer, got "${v}"`)
  return Number(v)
}

async function main () {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
    for (const k of Object.keys(opts)) {
      if (!['port', 'mdns-port', 'interval', 'expect', 'dial', 'timeout', 'key-seed'].includes(k)) {
        throw new Error(`unknown option --${k}`)
      }
    }
  } catch (err) {
    fail(err.message)
    process.stderr.write('usage: mdns_peer.mjs [--port P] [--mdns-port 5353] [--interval MS] [--expect PEERID] [--dial] [--timeout MS] [--key-seed HEX64]\n')
    return 2
  }
  const port = intOpt(opts, 'port', 0)
  const mdnsPort = intOpt(opts, 'mdns-port', 5353)
  const interval = intOpt(opts, 'interval', 1000)
  const timeout = intOpt(opts, 'timeout', 30_000)

  const init = {
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [mdns({ interval, port: mdnsPort })],
    services: { identify: identify(), ping: ping() }
  }
  if (opts['key-seed'] != null) {
    if (!/^[0-9a-fA-F]{64}$/.test(opts['key-seed'])) {
      fail('--key-seed must be 64 hex characters')
      return 2
    }
    init.privateKey = await generateKeyPairFromSeed('Ed25519', Buffer.from(opts['key-seed'], 'hex'))
  }
  const node = await createLibp2p(init)
  const id = node.peerId.toString()

  let settle
  const finished = new Promise((resolve) => { settle = resolve })
  let handled = false

  node.addEventListener('peer:discovery', (evt) => {
    const { id: peer, multiaddrs } = evt.detail
    out(`discovered ${peer.toString()} ${multiaddrs.map(a => a.toString()).join(' ')}`.trimEnd())
    if (opts.expect == null || peer.toString() !== opts.expect || handled) return
    handled = true
    if (!opts.dial) {
      settle(0)
      return
    }
    ;(async () => {
      try {
        const rtt = await node.services.ping.ping(peer, { signal: AbortSignal.timeout(10_000) })
        out(`ping ${peer.toString()} rtt_ms=${Math.round(rtt)}`)
        settle(0)
      } catch (err) {
        fail(`dial/ping ${peer.toString()}: ${err.message}`)
        settle(1)
      }
    })()
  })

  for (const ma of node.getMultiaddrs()) {
    let s = ma.toString()
    if (!s.includes('/p2p/')) s += `/p2p/${id}`
    out(`listening ${s}`)
  }
  out('ready')

  process.once('SIGTERM', () => settle(0))
  process.once('SIGINT', () => settle(0))
  let timer
  if (opts.expect != null) {
    timer = setTimeout(() => {
      fail(`peer ${opts.expect} not discovered within ${timeout} ms`)
      settle(1)
    }, timeout)
  }
  const rc = await finished
  clearTimeout(timer)
  try {
    await Promise.race([node.stop(), new Promise(resolve => setTimeout(resolve, 3000))])
  } catch { }
  return rc
}

main().then((rc) => process.exit(rc), (err) => {
  fail(err?.stack ?? err)
  process.exit(1)
})
