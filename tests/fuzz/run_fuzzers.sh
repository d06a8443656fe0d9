#!/usr/bin/env bash
# Builds every libFuzzer target with clang (ASan) in build-fuzz and runs each
# for a bounded time (FUZZ_SECONDS, default 20). Exits non-zero on any crash.
set -euo pipefail
src="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
out="${FUZZ_BUILD:-$src/build-fuzz}"
seconds="${FUZZ_SECONDS:-15}"

if [ ! -f "$out/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$src" -B "$out" -G Ninja -DSYNDB_FUZZ=ON -DSYNDB_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=Release > "$out.configure.log" 2>&1 || { cat "$out.configure.log"; exit 1; }
fi
cmake --build "$out" -j "$(nproc)"

status=0
for fuzzer in "$out"/tests/fuzz/*_fuzz; do
  name=$(basename "$fuzzer")
  corpus="$out/corpus/$name"
  mkdir -p "$corpus"
  echo "== $name (${seconds}s)"
  if ! "$fuzzer" -max_total_time="$seconds" -max_len=70000 -rss_limit_mb=2048 -print_final_stats=0 \
      "$corpus" > "$out/$name.log" 2>&1; then
    echo "FAILED: $name"; tail -40 "$out/$name.log"; status=1
  else
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$out/$name.log" | tail -1 || true
  fi
done
exit $status
