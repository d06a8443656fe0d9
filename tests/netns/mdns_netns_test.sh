#!/usr/bin/env bash
# mDNS discovery between separate network "hosts" (issue 4, "Tests in network
# namespaces"). Needs root and iproute2; otherwise it exits 77 (skipped).
#
#   tests/netns/mdns_netns_test.sh [SYNDB_BINARY [SOURCE_DIR]]
#
# Topology, all of it created here and removed on exit (trap on EXIT, also on
# failure or SIGINT/SIGTERM): four namespaces named syndb-mdns-{br,1,2,3}-$$.
# The br namespace holds a bridge br0; each host namespace N has an eth0 veth
# whose peer pN is a port of br0, address 10.231.X.N/24 (X from $$), multicast
# on, and a route 224.0.0.0/4 dev eth0. Nothing is created in the root
# namespace: the veth pairs are created inside the namespaces.
#
# Test A: `syndb hub --mdns` in ns1, two `syndb node --mdns` (datasets 1 and 2
#   of the Witvliet data each) in ns2 and ns3, no --bootstrap. Pass when the
#   hub's GET /v1/federation/clusters lists both nodes Healthy with their
#   datasets within 40 s.
# Test B: js-libp2p (tests/interop/js/mdns_peer.mjs, @libp2p/mdns) in ns2 and
#   `syndb node --mdns` in ns1. Pass when the js peer discovers the syndb node
#   and dials and pings it through the discovered addresses, and the syndb
#   node, having heard the js peer's mDNS response, dials the js peer's
#   announced address (its debug log names the js peer id). mdns_peer.mjs
#   listens on 127.0.0.1 only, so that dial cannot succeed across hosts; its
#   attempt is the only trace of mDNS discovery in the syndb log.
#
# Environment: SYNDB_DATA (witvliet2021 folder, default
# <source>/../shared/data/witvliet2021), KEEP_LOGS=1 keeps the work directory.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC_DIR="${2:-$(cd "$SCRIPT_DIR/../.." && pwd)}"
SYNDB="${1:-$SRC_DIR/build/syndb}"
DATA="${SYNDB_DATA:-$SRC_DIR/../shared/data/witvliet2021}"
JS_PEER="$SRC_DIR/tests/interop/js/mdns_peer.mjs"

skip() {
  echo "SKIP: $*"
  exit 77
}

[[ $(id -u) -eq 0 ]] || skip "needs root (creates network namespaces)"
command -v ip >/dev/null || skip "iproute2 'ip' not found"
ip netns list >/dev/null 2>&1 || skip "'ip netns' is not available"
for tool in curl jq node; do
  command -v "$tool" >/dev/null || skip "'$tool' not found"
done
[[ -x $SYNDB ]] || { echo "FAIL: syndb binary not found at $SYNDB"; exit 1; }
[[ -d $DATA ]] || { echo "FAIL: witvliet2021 data not found at $DATA (set SYNDB_DATA)"; exit 1; }
[[ -f $JS_PEER && -d $SRC_DIR/node_modules/@libp2p/mdns ]] ||
  skip "js-libp2p peer or node_modules missing (run npm ci --ignore-scripts)"

TAG=$$
JS_SEED=5eed000000000000000000000000000000000000000000000000000000000004
NS_BR="syndb-mdns-br-$TAG"
NS=("syndb-mdns-1-$TAG" "syndb-mdns-2-$TAG" "syndb-mdns-3-$TAG")
SUBNET="10.231.$((TAG % 250 + 1))"
CREATED_NS=()
PIDS=()
WORK="$(mktemp -d "${TMPDIR:-/tmp}/syndb-mdns-netns.XXXXXX")"
FAILED=0

log() { echo "[$(date +%T)] $*"; }

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  # Every process this script started, by pid: TERM, then KILL after 3 s.
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 30); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  # Anything still running inside our namespaces was started by us too.
  for ns in "${CREATED_NS[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  # Deleting a namespace deletes the links in it (veths, bridge).
  for ns in "${CREATED_NS[@]}"; do ip netns delete "$ns" 2>/dev/null; done
  if [[ ${KEEP_LOGS:-0} == 1 ]]; then
    echo "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- topology --

make_ns() {
  ip netns add "$1"
  CREATED_NS+=("$1")
  ip -n "$1" link set lo up
}

make_ns "$NS_BR"
ip -n "$NS_BR" link add br0 type bridge
# Flood all multicast; no IGMP snooping decisions in the way.
ip -n "$NS_BR" link set br0 type bridge mcast_snooping 0 2>/dev/null || true
ip -n "$NS_BR" link set br0 up
for i in 1 2 3; do
  ns="${NS[$((i - 1))]}"
  make_ns "$ns"
  ip -n "$ns" link add eth0 type veth peer name "p$i" netns "$NS_BR"
  ip -n "$NS_BR" link set "p$i" master br0
  ip -n "$NS_BR" link set "p$i" up
  ip -n "$ns" addr add "$SUBNET.$i/24" dev eth0
  ip -n "$ns" link set eth0 multicast on
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add 224.0.0.0/4 dev eth0
done
log "namespaces ${NS[*]} on bridge br0 in $NS_BR, subnet $SUBNET.0/24"

# Sanity (when ping is installed): the hosts reach each other before
# anything else is blamed.
for i in 2 3; do
  command -v ping >/dev/null || break
  ok=0
  for _ in $(seq 20); do
    if ip netns exec "${NS[0]}" ping -c1 -W1 "$SUBNET.$i" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
  done
  ((ok)) || { echo "FAIL: setup: $SUBNET.1 cannot ping $SUBNET.$i"; exit 1; }
done

# ---------------------------------------------------------------- helpers --

# start NAME NS CMD... : runs CMD in namespace NS, stdout to $WORK/NAME.out,
# stderr to $WORK/NAME.err; the pid is recorded for cleanup.
LAST_PID=
start() {
  local name=$1 ns=$2
  shift 2
  ip netns exec "$ns" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# wait_line FILE REGEX SECONDS PID : waits for a line matching REGEX in FILE,
# prints it; fails if PID exits first.
wait_line() {
  local file=$1 re=$2 secs=$3 pid=$4 line
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    line=$(grep -m1 -E "$re" "$file" 2>/dev/null || true)
    if [[ -n $line ]]; then
      echo "$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

show_logs() {
  local name
  for name in "$@"; do
    echo "----- $name stdout (last 20 lines)"
    tail -n 20 "$WORK/$name.out" 2>/dev/null || true
    echo "----- $name stderr (last 40 lines)"
    tail -n 40 "$WORK/$name.err" 2>/dev/null || true
  done
}

peer_of() { "$SYNDB" id --key "$1" | tail -n1 | awk '{print $NF}'; }

# ------------------------------------------------------------------ test A --

test_a() {
  log "Test A: hub in ${NS[0]}, nodes in ${NS[1]} and ${NS[2]}, mDNS only (no --bootstrap)"
  mkdir -p "$WORK/a"
  "$SYNDB" keygen --out "$WORK/a/hub.key" >/dev/null
  local hub_id n2_id n3_id
  hub_id=$(peer_of "$WORK/a/hub.key")
  for n in 2 3; do
    "$SYNDB" keygen --out "$WORK/a/node$n.key" >/dev/null
    "$SYNDB" import witvliet "$DATA" --data-dir "$WORK/a/node$n" --datasets 1,2 \
      --prefix "/netns$n/witvliet2021" >"$WORK/a/import$n.log" 2>&1 ||
      { cat "$WORK/a/import$n.log"; echo "FAIL: Test A: import into node$n"; return 1; }
  done
  n2_id=$(peer_of "$WORK/a/node2.key")
  n3_id=$(peer_of "$WORK/a/node3.key")
  log "hub $hub_id, node2 $n2_id, node3 $n3_id"

  start a_hub "${NS[0]}" "$SYNDB" --log-level debug hub --key "$WORK/a/hub.key" --data-dir "$WORK/a/hub" --flight-listen 127.0.0.1:0 --flight-sql-listen 127.0.0.1:0 \
    --name netns-hub --listen /ip4/0.0.0.0/tcp/0 --http-listen 127.0.0.1:0 --mdns
  local hub_pid=$LAST_PID line http
  if ! line=$(wait_line "$WORK/a_hub.out" '^http http://' 15 "$hub_pid"); then
    show_logs a_hub
    echo "FAIL: Test A: hub did not print its http line"
    return 1
  fi
  http=${line#http }
  log "hub HTTP API $http (inside ${NS[0]})"

  local -A node_pid=()
  for n in 2 3; do
    start "a_node$n" "${NS[$((n - 1))]}" "$SYNDB" --log-level debug node --key "$WORK/a/node$n.key" \
      --data-dir "$WORK/a/node$n" --flight-listen 127.0.0.1:0 --name "netns-node$n" --listen /ip4/0.0.0.0/tcp/0 --mdns
    node_pid[$n]=$LAST_PID
  done
  local t0=$SECONDS
  echo "  criteria: within 40 s, GET $http/v1/federation/clusters (from ${NS[0]}) lists"
  echo "            $n2_id (netns-node2) and $n3_id (netns-node3)"
  echo "            with state Healthy and at least 2 datasets each"

  local body="" s2="" s3="" d2=0 d3=0 ok=0
  while ((SECONDS - t0 < 40)); do
    for n in 2 3; do
      kill -0 "${node_pid[$n]}" 2>/dev/null || { show_logs "a_node$n"; echo "FAIL: Test A: node$n exited"; return 1; }
    done
    kill -0 "$hub_pid" 2>/dev/null || { show_logs a_hub; echo "FAIL: Test A: hub exited"; return 1; }
    body=$(ip netns exec "${NS[0]}" curl -sf --max-time 3 "$http/v1/federation/clusters" 2>/dev/null || true)
    if [[ -n $body ]]; then
      s2=$(jq -r --arg p "$n2_id" '[.. | objects | select(.peer_id? == $p)][0].state // ""' <<<"$body")
      s3=$(jq -r --arg p "$n3_id" '[.. | objects | select(.peer_id? == $p)][0].state // ""' <<<"$body")
      d2=$(jq -r --arg p "$n2_id" '[.. | objects | select(.peer_id? == $p)][0].datasets // [] | length' <<<"$body")
      d3=$(jq -r --arg p "$n3_id" '[.. | objects | select(.peer_id? == $p)][0].datasets // [] | length' <<<"$body")
      if [[ $s2 == Healthy && $s3 == Healthy ]] && ((d2 >= 2 && d3 >= 2)); then
        ok=1
        break
      fi
    fi
    sleep 0.5
  done
  local took=$((SECONDS - t0))
  echo "  observed after ${took} s: node2 state=${s2:-absent} datasets=$d2, node3 state=${s3:-absent} datasets=$d3"
  if [[ -n $body ]]; then
    echo "  registered addrs:"
    jq -r '[.. | objects | select(.peer_id? != null and .addrs? != null)] | .[] | "    \(.name) \(.state) \(.addrs | join(" "))"' \
      <<<"$body" || true
  fi
  ip netns exec "${NS[0]}" "$SYNDB" federation status --hub "$http" 2>&1 | sed 's/^/  | /' || true
  for n in 2 3; do
    grep -E "registered with hub|connected to" "$WORK/a_node$n.err" | head -n 3 | sed "s/^/  node$n: /" || true
  done
  # The nodes found the hub by mDNS only: they were given no bootstrap
  # address, so any connection to the hub came from an mDNS response.
  if ((ok)); then
    echo "PASS: Test A: hub discovered both nodes by mDNS; both Healthy with their datasets in ${took} s"
  else
    show_logs a_hub a_node2 a_node3
    echo "FAIL: Test A: nodes not both Healthy with datasets within 40 s (node2=${s2:-absent}, node3=${s3:-absent})"
  fi
  for pid in "$hub_pid" "${node_pid[2]}" "${node_pid[3]}"; do stop_pid "$pid"; done
  ((ok))
}

# ------------------------------------------------------------------ test B --

test_b() {
  log "Test B: syndb node in ${NS[0]}, js-libp2p @libp2p/mdns peer in ${NS[1]}"
  mkdir -p "$WORK/b"
  "$SYNDB" keygen --out "$WORK/b/node.key" >/dev/null
  "$SYNDB" import witvliet "$DATA" --data-dir "$WORK/b/node" --datasets 1,2 \
    --prefix /netnsb/witvliet2021 >"$WORK/b/import.log" 2>&1 ||
    { cat "$WORK/b/import.log"; echo "FAIL: Test B: import"; return 1; }
  local syn_id
  syn_id=$(peer_of "$WORK/b/node.key")

  start b_syndb "${NS[0]}" "$SYNDB" --log-level debug node --key "$WORK/b/node.key" --data-dir "$WORK/b/node" --flight-listen 127.0.0.1:0 \
    --name netns-b --listen /ip4/0.0.0.0/tcp/0 --mdns
  local syn_pid=$LAST_PID
  if ! wait_line "$WORK/b_syndb.out" '^listening ' 15 "$syn_pid" >/dev/null; then
    show_logs b_syndb
    echo "FAIL: Test B: syndb node did not start"
    return 1
  fi
  # --expect/--dial: exit 0 once the syndb node is discovered, dialled through
  # the discovered addresses and pinged; 1 after --timeout.
  start b_js "${NS[1]}" node "$JS_PEER" --interval 1000 --expect "$syn_id" --dial --timeout 30000 \
    --key-seed "$JS_SEED"
  local js_pid=$LAST_PID js_id="" line
  if line=$(wait_line "$WORK/b_js.out" '^listening ' 20 "$js_pid"); then
    js_id=${line##*/p2p/}
  fi
  if [[ -z $js_id ]]; then
    show_logs b_js
    echo "FAIL: Test B: js peer did not start"
    return 1
  fi
  log "syndb node $syn_id, js peer $js_id"
  echo "  criteria: (1) js peer prints 'discovered $syn_id' with a $SUBNET.1 address and"
  echo "            'ping $syn_id rtt_ms=…' (dialled via the mDNS addresses) and exits 0 within 30 s;"
  echo "            (2) the syndb node's log names js peer $js_id (a dial to the address it"
  echo "            learnt from the js peer's mDNS response) within 30 s"

  local js_rc=0
  wait "$js_pid" || js_rc=$?
  local disc ping
  disc=$(grep -m1 "^discovered $syn_id" "$WORK/b_js.out" || true)
  ping=$(grep -m1 "^ping $syn_id" "$WORK/b_js.out" || true)
  echo "  js: ${disc:-<no discovery of $syn_id>}"
  echo "  js: ${ping:-<no ping>} (exit $js_rc)"
  local ok1=0
  if [[ $js_rc -eq 0 && -n $ping && $disc == *"/ip4/$SUBNET.1/"* ]]; then ok1=1; fi
  if ((ok1)); then
    echo "PASS: Test B (js -> syndb): @libp2p/mdns discovered the syndb node and pinged it over $SUBNET.0/24"
  else
    show_logs b_js
    echo "FAIL: Test B (js -> syndb): js peer did not discover and ping the syndb node"
  fi

  # The syndb node learns of the js peer from the responses the js peer
  # multicasts to its own queries (every second) and to the syndb node's
  # (at start and every 10 s); it then dials the first announced address.
  # The js peer may have exited before that, so if the syndb log has no such
  # dial yet, run the same js peer (same key seed, so the same peer id)
  # passively for up to 25 s. Only a dial or connection *by the syndb node*
  # to /p2p/<js id> counts, not the js peer's inbound connection.
  local ok2=0 t0=$SECONDS trace="" restarted=0
  local re="(dial|connected to) /[^ ]*/p2p/$js_id"
  while ((SECONDS - t0 < 30)); do
    trace=$(grep -m1 -E "$re" "$WORK/b_syndb.err" || true)
    [[ -n $trace ]] && { ok2=1; break; }
    if ((!restarted && SECONDS - t0 >= 3)); then
      restarted=1
      log "no dial to the js peer in the syndb log yet; running the js peer again (passive)"
      start b_js2 "${NS[1]}" node "$JS_PEER" --interval 1000 --key-seed "$JS_SEED"
      js_pid=$LAST_PID
    fi
    sleep 0.5
  done
  echo "  syndb: ${trace:-<no line naming $js_id>}"
  if ((ok2)); then
    echo "PASS: Test B (syndb -> js): the syndb node discovered js peer $js_id by mDNS"
  else
    show_logs b_syndb
    echo "FAIL: Test B (syndb -> js): the syndb node never acted on js peer $js_id"
  fi
  stop_pid "$js_pid"
  stop_pid "$syn_pid"
  ((ok1 && ok2))
}

test_a || FAILED=1
test_b || FAILED=1
if ((FAILED)); then
  echo "FAIL: mdns_netns_test"
  exit 1
fi
echo "PASS: mdns_netns_test"
