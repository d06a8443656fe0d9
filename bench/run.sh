#!/usr/bin/env bash
# syndb benchmark harness: one command, loopback only, no root.
#
#   bash bench/run.sh          (or: make bench)
#
# Measures, in one run:
#   * raw TCP throughput       iperf3 -R, one stream, 5 s       (the ceiling)
#   * syndb perf throughput    syndb perf -> syndb node, median of RUNS
#   * js-libp2p throughput     peer.mjs perf -> peer.mjs listen, median of RUNS
#   * ping RTT p50             syndb ping vs. a raw TCP 32-byte echo
#   * idle node RSS            VmRSS of a fresh syndb node after one ping
# and prints a results table with PASS/FAIL per target, then the same table
# as a markdown fragment (for docs/benchmarks.md) as the last thing on stdout.
# Progress messages go to stderr, so `bash bench/run.sh > out.md` keeps only
# the results.
#
# Environment knobs (defaults in brackets):
#   BUILD [build]                 build directory holding ./syndb
#   SYNDB_DOWNLOAD [2000000000]   bytes per syndb perf run
#   JS_DOWNLOAD [500000000]       bytes per js-libp2p perf run (js is slower;
#                                 MB/s is size-independent at these sizes)
#   RUNS [3]                      perf repetitions (the median is reported)
#   IPERF_SECONDS [5]             iperf3 duration
#   PING_COUNT [200]              round trips for both RTT measurements
#   PING_ROUNDS [5]               alternating syndb/raw rounds they are split in
#   MICROBENCH_ARGS []            extra args for $BUILD/bench/syndb_microbench
#   MICROBENCH_TIMEOUT [60]       seconds before the micro-benchmarks are
#                                 stopped (0 = no limit)
#   STRICT [0]                    1 = exit 1 if any target FAILs
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
SYNDB=$BUILD/syndb
JS_PEER=$ROOT/tests/interop/js/peer.mjs
ECHO_SRC=$ROOT/bench/tcp_echo_rtt.cc
ECHO_BIN=$BUILD/bench/tcp_echo_rtt

SYNDB_DOWNLOAD=${SYNDB_DOWNLOAD:-2000000000}
JS_DOWNLOAD=${JS_DOWNLOAD:-500000000}
RUNS=${RUNS:-3}
IPERF_SECONDS=${IPERF_SECONDS:-5}
PING_COUNT=${PING_COUNT:-200}
PING_ROUNDS=${PING_ROUNDS:-5}
MICROBENCH_ARGS=${MICROBENCH_ARGS:-}
MICROBENCH_TIMEOUT=${MICROBENCH_TIMEOUT:-60}
STRICT=${STRICT:-0}

# Targets (see docs/benchmarks.md).
TARGET_RAW_RATIO=0.40   # syndb / iperf3 >= this
TARGET_JS_RATIO=3.5     # syndb / js-libp2p >= this
TARGET_PING_RATIO=2.0   # syndb ping p50 / raw echo p50 <= this
TARGET_RSS_MB=20        # idle node RSS < this

# Any single client run that takes longer than this is treated as hung.
CLIENT_TIMEOUT=120

# ---------------------------------------------------------------------------
# process bookkeeping: every background process we start is recorded in PIDS
# and terminated on exit, however the script ends (error, Ctrl-C, success).

WORK=$(mktemp -d "${TMPDIR:-/tmp}/syndb-bench.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  # Give them a moment to exit cleanly (syndb and peer.mjs handle SIGTERM),
  # then make sure nothing is left behind.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# Stops one process we started (and forgets it), so that measurements that
# follow do not share the two cores with an idle-but-alive server.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

# client CMD...: runs one benchmark client with a time limit (a hung client
# must not hang the run). It runs in the background and we `wait` for it:
# bash defers traps while a foreground child runs, whereas `wait` returns at
# once on SIGINT/SIGTERM, so the EXIT trap then stops the client as well.
client() { run_limited "$CLIENT_TIMEOUT" "$@"; }

# run_limited SECONDS CMD...: the same with any limit (0 = none).
run_limited() {
  timeout "$1" "${@:2}" &
  local pid=$! rc=0
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  return "$rc"
}

# wait_for_line FILE REGEX PID [SECONDS]: waits until FILE has a line matching
# REGEX; fails early if PID dies (its output is shown) or on timeout.
wait_for_line() {
  local file=$1 re=$2 pid=$3 secs=${4:-20} i
  for ((i = 0; i < secs * 20; i++)); do
    grep -qE "$re" "$file" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$file" >&2 || true
      die "process $pid exited before printing /$re/"
    fi
    sleep 0.05
  done
  cat "$file" >&2 || true
  die "timed out waiting for /$re/ in $file"
}

# ---------------------------------------------------------------------------
# small numeric helpers (awk: bash has no floating point; node/python/jq are
# not needed for arithmetic)

# median: reads numbers, one per line, prints the median.
median() {
  sort -g | awk '{ a[NR] = $1 }
    END {
      if (NR == 0) { print "nan"; exit 1 }
      if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2
    }'
}

# calc EXPR: evaluates an awk arithmetic expression.
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }

# fmt1 X: one decimal place; fmt2 X: two.
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }
fmt2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }

# verdict VALUE OP TARGET: PASS if "VALUE OP TARGET" holds (OP: >=, <=, <).
verdict() {
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (op == "<=") ? (v <= t) : (v < t)
    print ok ? "PASS" : "FAIL"
  }'
}

# json_num FILE KEY: value of a top-level numeric "KEY": in a one-line JSON
# object (the last line of `syndb perf` / `peer.mjs perf`).
json_num() {
  tail -n 1 "$1" | grep -oE "\"$2\"[[:space:]]*:[[:space:]]*[-0-9.eE+]+" | head -n 1 | sed -E 's/.*:[[:space:]]*//'
}

# free_port: a TCP port on 127.0.0.1 the kernel considers free right now
# (bind to port 0, read it back, close). Node is a project requirement anyway.
free_port() {
  node -e 'const s = require("net").createServer();
           s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# port_listening PORT: true if something listens on TCP PORT (IPv4 or IPv6).
# Reads /proc/net/tcp* directly so it needs neither ss nor netstat, and does
# not connect (a probe connection would be taken as an iperf3 client).
port_listening() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
                    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# rss_mb PID: resident set size in MB (10^6 bytes; /proc reports KiB).
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 * 1024 / 1e6 }' "/proc/$1/status"; }
# rss_split_mb PID: "anon X MB, file Y MB" -- file-backed pages are mostly
# shared libraries, which VmRSS counts in full even though they are shared.
rss_split_mb() {
  awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
       END { printf "anon %.1f MB, file %.1f MB", a * 1024 / 1e6, f * 1024 / 1e6 }' "/proc/$1/status"
}
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 * 1024 / 1e6 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------
# prerequisites

check_prereqs() {
  [ -x "$SYNDB" ] || die "$SYNDB not found; build it first (ninja -C $BUILD syndb, or make build)"
  command -v iperf3 >/dev/null || die "iperf3 not installed (bash scripts/setup.sh)"
  command -v node >/dev/null || die "node not installed (bash scripts/setup.sh)"
  [ -d "$ROOT/node_modules/libp2p" ] || die "npm packages missing (bash scripts/setup.sh)"
  build_echo_tool
}

# The raw-TCP echo reference. CMake may build it as $BUILD/bench/tcp_echo_rtt;
# otherwise (bench disabled in CMake, or not built yet) compile it directly.
# It has no dependencies, so a plain g++ call is enough.
build_echo_tool() {
  if [ -x "$ECHO_BIN" ] && [ "$ECHO_BIN" -nt "$ECHO_SRC" ]; then return; fi
  log "compiling $ECHO_BIN"
  mkdir -p "$(dirname "$ECHO_BIN")"
  "${CXX:-g++}" -O2 -std=c++20 -pthread "$ECHO_SRC" -o "$ECHO_BIN"
}

# start_syndb_node NAME: starts `syndb node` on a free port with a fresh key.
# Sets NODE_PID and NODE_ADDR (full multiaddr with /p2p/<id>).
start_syndb_node() {
  local name=$1
  "$SYNDB" keygen --out "$WORK/$name.key" >/dev/null
  "$SYNDB" node --key "$WORK/$name.key" --listen /ip4/127.0.0.1/tcp/0 \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  wait_for_line "$WORK/$name.out" '^listening ' "$NODE_PID"
  NODE_ADDR=$(awk '/^listening /{ print $2; exit }' "$WORK/$name.out")
}

# ---------------------------------------------------------------------------
# measurements. Each one starts its own server(s) and stops them afterwards,
# so measurements never overlap on the machine's cores.

measure_iperf() {
  local port pid
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    iperf3 -s -1 -p "$port" -B 127.0.0.1 >"$WORK/iperf-server.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    # Wait until it listens; if the port got taken meanwhile, iperf3 exits
    # and we try another one.
    local i
    for ((i = 0; i < 100; i++)); do
      port_listening "$port" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    port_listening "$port" && break
    stop_pid "$pid"
    pid=""
  done
  [ -n "$pid" ] || die "could not start an iperf3 server"

  log "iperf3: -c 127.0.0.1 -p $port -t $IPERF_SECONDS -R (one stream)"
  client iperf3 -c 127.0.0.1 -p "$port" -t "$IPERF_SECONDS" -J -R \
    >"$WORK/iperf.json" || { cat "$WORK/iperf.json" >&2; die "iperf3 client failed"; }
  stop_pid "$pid"

  # Receiver-side rate (the client receives with -R), in bits/s -> MB/s.
  IPERF_MBPS=$(node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (d.error) { console.error(d.error); process.exit(1) }
    console.log(d.end.sum_received.bits_per_second / 8 / 1e6)' "$WORK/iperf.json")
  log "iperf3: $(fmt1 "$IPERF_MBPS") MB/s"
}

measure_syndb_perf() {
  start_syndb_node perf-server
  local i rate
  for ((i = 1; i <= RUNS; i++)); do
    client "$SYNDB" perf "$NODE_ADDR" --upload 0 --download "$SYNDB_DOWNLOAD" \
      >"$WORK/syndb-perf-$i.out" 2>"$WORK/syndb-perf-$i.err" \
      || { cat "$WORK/syndb-perf-$i.err" >&2; die "syndb perf run $i failed"; }
    [ "$(json_num "$WORK/syndb-perf-$i.out" download_bytes)" = "$SYNDB_DOWNLOAD" ] \
      || die "syndb perf run $i: wrong download_bytes"
    rate=$(json_num "$WORK/syndb-perf-$i.out" download_MBps)
    log "syndb perf run $i/$RUNS: $(fmt1 "$rate") MB/s"
    echo "$rate" >>"$WORK/syndb-rates"
  done
  SYNDB_MBPS=$(median <"$WORK/syndb-rates")
  # Informational: how much memory the server needed while streaming.
  PERF_HWM_MB=$(hwm_mb "$NODE_PID")
  stop_pid "$NODE_PID"
}

measure_js_perf() {
  node "$JS_PEER" listen >"$WORK/js.out" 2>"$WORK/js.err" &
  local pid=$!
  PIDS+=("$pid")
  wait_for_line "$WORK/js.out" '^ready$' "$pid" 30
  local addr i rate
  addr=$(awk '/^listening /{ print $2; exit }' "$WORK/js.out")
  for ((i = 1; i <= RUNS; i++)); do
    client node "$JS_PEER" perf "$addr" --upload 0 --download "$JS_DOWNLOAD" \
      >"$WORK/js-perf-$i.out" 2>"$WORK/js-perf-$i.err" \
      || { cat "$WORK/js-perf-$i.err" >&2; die "js perf run $i failed"; }
    rate=$(json_num "$WORK/js-perf-$i.out" download_MBps)
    log "js-libp2p perf run $i/$RUNS: $(fmt1 "$rate") MB/s"
    echo "$rate" >>"$WORK/js-rates"
  done
  JS_MBPS=$(median <"$WORK/js-rates")
  stop_pid "$pid"
}

# Idle RSS first (fresh node, one ping so the connection/handshake code paths
# have been touched, then let it settle), then the ping RTT on the same node.
#
# The two RTTs are sampled in PING_ROUNDS alternating rounds (PING_COUNT in
# total per side) and each p50 is taken over all of its samples. On a small
# (virtual) machine a short burst of other work, or where the scheduler puts
# the two ends, can shift a whole 200-ping run from ~15 to ~60 us; when both
# sides take turns, such a burst hits both rather than just one of them.
measure_rss_and_ping() {
  start_syndb_node idle
  local node_pid=$NODE_PID node_addr=$NODE_ADDR
  client "$SYNDB" ping "$node_addr" --count 1 >/dev/null \
    || die "syndb ping (warm-up) failed"
  sleep 1
  IDLE_RSS_MB=$(rss_mb "$node_pid")
  IDLE_RSS_SPLIT=$(rss_split_mb "$node_pid")
  log "idle node RSS: $IDLE_RSS_MB MB"

  "$ECHO_BIN" server 0 >"$WORK/echo.out" 2>&1 &
  local echo_pid=$!
  PIDS+=("$echo_pid")
  wait_for_line "$WORK/echo.out" '^listening [0-9]+$' "$echo_pid"
  local port
  port=$(awk '/^listening /{ print $2; exit }' "$WORK/echo.out")

  local round n left=$PING_COUNT
  for ((round = PING_ROUNDS; round >= 1; round--)); do
    n=$(((left + round - 1) / round))   # spread PING_COUNT over the rounds
    left=$((left - n))
    client "$SYNDB" ping "$node_addr" --count "$n" >>"$WORK/syndb-ping.out" \
      || die "syndb ping failed"
    client "$ECHO_BIN" client 127.0.0.1 "$port" "$n" >>"$WORK/raw-ping.out" \
      || die "tcp_echo_rtt client failed"
  done
  stop_pid "$echo_pid"
  stop_pid "$node_pid"

  [ "$(grep -c '^rtt_us=' "$WORK/syndb-ping.out")" = "$PING_COUNT" ] || die "syndb ping: wrong count"
  [ "$(grep -c '^rtt_us=' "$WORK/raw-ping.out")" = "$PING_COUNT" ] || die "tcp_echo_rtt: wrong count"
  SYNDB_PING_P50=$(sed -n 's/^rtt_us=//p' "$WORK/syndb-ping.out" | median)
  RAW_PING_P50=$(sed -n 's/^rtt_us=//p' "$WORK/raw-ping.out" | median)
  log "ping p50: syndb ${SYNDB_PING_P50} us, raw TCP ${RAW_PING_P50} us"
}

run_microbench() {
  local mb=$BUILD/bench/syndb_microbench
  if [ -x "$mb" ]; then
    log "running $mb $MICROBENCH_ARGS"
    echo "## Micro-benchmarks ($mb)"
    # A time cap so one slow micro-benchmark cannot blow the run's time
    # budget; the headline numbers above are already measured by now.
    local rc=0
    # shellcheck disable=SC2086  # MICROBENCH_ARGS is a list of flags
    run_limited "$MICROBENCH_TIMEOUT" "$mb" $MICROBENCH_ARGS 2>&1 || rc=$?  # header is on stderr
    if [ "$rc" = 124 ]; then
      echo "(stopped after ${MICROBENCH_TIMEOUT} s; set MICROBENCH_TIMEOUT=0 for no limit," \
        "or pick benchmarks with MICROBENCH_ARGS=--benchmark_filter=REGEX)"
    elif [ "$rc" != 0 ]; then
      echo "(syndb_microbench failed with exit status $rc)"
    fi
    echo
  else
    log "no $mb (configure with -DSYNDB_BENCH=ON to build it); skipping micro-benchmarks"
  fi
}

# ---------------------------------------------------------------------------
# report

report() {
  local raw_ratio js_ratio ping_ratio
  raw_ratio=$(calc "$SYNDB_MBPS / $IPERF_MBPS")
  js_ratio=$(calc "$SYNDB_MBPS / $JS_MBPS")
  ping_ratio=$(calc "$SYNDB_PING_P50 / $RAW_PING_P50")

  V_RAW=$(verdict "$raw_ratio" ">=" "$TARGET_RAW_RATIO")
  V_JS=$(verdict "$js_ratio" ">=" "$TARGET_JS_RATIO")
  V_PING=$(verdict "$ping_ratio" "<=" "$TARGET_PING_RATIO")
  V_RSS=$(verdict "$IDLE_RSS_MB" "<" "$TARGET_RSS_MB")

  local env_line
  env_line="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores \
($(awk -F': ' '/^model name/{ print $2; exit }' /proc/cpuinfo)), Linux $(uname -r), \
$(iperf3 --version | head -n 1 | awk '{ print $1, $2 }'), node $(node --version), \
load average at start $LOAD_AT_START"

  # Rows: metric | value | target | verdict. Plain and markdown share them.
  local rows=(
    "syndb perf download (median of $RUNS × $SYNDB_DOWNLOAD B)|$(fmt1 "$SYNDB_MBPS") MB/s||"
    "js-libp2p perf download (median of $RUNS × $JS_DOWNLOAD B)|$(fmt1 "$JS_MBPS") MB/s||"
    "raw TCP, iperf3 -R, 1 stream, ${IPERF_SECONDS} s|$(fmt1 "$IPERF_MBPS") MB/s||"
    "syndb / raw TCP|$(fmt2 "$raw_ratio")|≥ $TARGET_RAW_RATIO|$V_RAW"
    "syndb / js-libp2p|$(fmt2 "$js_ratio")|≥ $TARGET_JS_RATIO|$V_JS"
    "ping p50, syndb ($PING_COUNT pings in $PING_ROUNDS rounds)|${SYNDB_PING_P50} µs||"
    "ping p50, raw TCP 32-byte echo (likewise)|${RAW_PING_P50} µs||"
    "ping p50 syndb / raw|$(fmt2 "$ping_ratio")×|≤ ${TARGET_PING_RATIO}×|$V_PING"
    "idle node RSS (VmRSS after 1 ping)|$IDLE_RSS_MB MB|< $TARGET_RSS_MB MB|$V_RSS"
    "idle node RSS split (info)|$IDLE_RSS_SPLIT||"
    "perf server peak RSS (VmHWM, info)|$PERF_HWM_MB MB||"
  )

  local r m v t s
  echo "## Results (loopback; MB = 10^6 bytes)"
  for r in "${rows[@]}"; do
    IFS='|' read -r m v t s <<<"$r"
    printf '  %-52s %14s  %-10s %s\n' "$m" "$v" "$t" "$s"
  done
  echo "  environment: $env_line"
  echo

  echo "<!-- bench/run.sh output, $(date -u +%Y-%m-%dT%H:%MZ) -->"
  echo "| metric | value | target | result |"
  echo "|---|---:|---|---|"
  for r in "${rows[@]}"; do
    IFS='|' read -r m v t s <<<"$r"
    echo "| $m | $v | $t | $s |"
  done
  echo
  echo "Environment: $env_line. Command: \`bash bench/run.sh\`."
}

main() {
  # Recorded in the report: other work on the machine skews every number
  # (the ratios less so, since all sides are measured in the same run).
  LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
  check_prereqs
  local t0=$SECONDS
  measure_iperf
  measure_syndb_perf
  measure_js_perf
  measure_rss_and_ping
  run_microbench
  report
  log "done in $((SECONDS - t0)) s"
  if [ "$STRICT" = 1 ] && [[ "$V_RAW$V_JS$V_PING$V_RSS" == *FAIL* ]]; then
    exit 1
  fi
}

main "$@"
