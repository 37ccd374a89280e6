#!/usr/bin/env bash
# Decode speed of the CPU backend on an idle machine and while the cores are shared: with busy-loop
# processes (--hogs, default one per core) and with busy threads inside the decoding process itself
# (--busy-threads; an LD_PRELOAD shim built here with cc). Every background loop is bounded in time
# (timeout / its own deadline) and killed by pid when its run ends.
#
#   bench/cpu-contention.sh [--build build] [--threads 2] [--decode 64] [--rounds 3] [--hogs N]
#                           [--busy-threads N (0: skip)] [--model PATH]
#
# Prints decode tok/s of each run, then per scenario the median and its ratio to the idle median.
# Extra environment (OMP_WAIT_POLICY, PLINTH_CPU_SPIN_US, ...) passes through to the bench.
set -euo pipefail

build=build threads=2 decode=64 rounds=3 hogs=$(nproc) busy=$(nproc) model=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --decode) decode=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --hogs) hogs=$2; shift 2 ;;
    --busy-threads) busy=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--threads N] [--decode N] [--rounds N] [--hogs N] [--busy-threads N] [--model PATH]" >&2
       exit 2 ;;
  esac
done

bench="$build/bin/plinth_decoder_bench"
if [[ ! -x "$bench" ]]; then
  echo "$bench not found: ninja -C $build plinth_decoder_bench plinth_backend_cpu" >&2
  exit 1
fi
args=(--device cpu:0 --prefill 0 --decode "$decode" --repeat 1)
[[ -n "$model" ]] && args+=(--model "$model")
limit=$((60 + decode))  # seconds: no run (and no background loop) outlives this

tmp=$(mktemp -d)
hog_pids=()
cleanup() {
  for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# The in-process load: a constructor that starts N threads spinning until PLINTH_BUSY_SECONDS pass.
if [[ "$busy" -gt 0 ]]; then
  cat >"$tmp/busy.c" <<'EOF'
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
static double seconds(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double until;
static void* spin(void* arg) { (void)arg; volatile unsigned long x = 0; while (seconds() < until) for (int i = 0; i < 100000; ++i) x++; return 0; }
__attribute__((constructor)) static void start(void) {
  const char* n = getenv("PLINTH_BUSY_THREADS"); const char* s = getenv("PLINTH_BUSY_SECONDS");
  if (!n || !s) return;
  until = seconds() + atof(s);
  for (int i = 0; i < atoi(n); ++i) { pthread_t t; pthread_create(&t, 0, spin, 0); pthread_detach(t); }
}
EOF
  cc -O1 -shared -fPIC -o "$tmp/busy.so" "$tmp/busy.c" -lpthread
fi

# Runs the bench once; prints tok/s.
decode_once() {
  local out
  out=$(OMP_NUM_THREADS=$threads timeout "$limit" "$@" "$bench" "${args[@]}" 2>&1) || { echo "$out" >&2; return 1; }
  sed -n 's/^decode: .* = \([0-9.]*\) tok\/s$/\1/p' <<<"$out"
}

start_hogs() {
  hog_pids=()
  for ((i = 0; i < hogs; ++i)); do
    timeout "$limit" sh -c 'while :; do :; done' &
    hog_pids+=($!)
  done
  sleep 0.3
}
stop_hogs() {
  for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${hog_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  hog_pids=()
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "cpu-contention: $(nproc) CPUs, OMP_NUM_THREADS=$threads, $decode decode tokens, $rounds rounds;" \
     "hogs: $hogs busy-loop processes; in-process: $busy busy threads"
: >"$tmp/idle" && : >"$tmp/hogs" && : >"$tmp/busy"
for ((r = 1; r <= rounds; ++r)); do
  idle=$(decode_once env)
  echo "$idle" >>"$tmp/idle"
  start_hogs
  hog=$(decode_once env)
  stop_hogs
  echo "$hog" >>"$tmp/hogs"
  line="round $r: idle $idle tok/s, with $hogs hogs $hog tok/s"
  if [[ "$busy" -gt 0 ]]; then
    inproc=$(decode_once env LD_PRELOAD="$tmp/busy.so" PLINTH_BUSY_THREADS="$busy" PLINTH_BUSY_SECONDS="$limit")
    echo "$inproc" >>"$tmp/busy"
    line+=", with $busy in-process busy threads $inproc tok/s"
  fi
  echo "$line"
done

idle_med=$(median <"$tmp/idle")
hog_med=$(median <"$tmp/hogs")
echo "median idle:                  $idle_med tok/s"
echo "median with $hogs hogs:          $hog_med tok/s (ratio to idle $(awk -v a="$hog_med" -v b="$idle_med" 'BEGIN {printf "%.2f", a / b}'))"
if [[ "$busy" -gt 0 ]]; then
  busy_med=$(median <"$tmp/busy")
  echo "median with $busy busy threads:  $busy_med tok/s (ratio to idle $(awk -v a="$busy_med" -v b="$idle_med" 'BEGIN {printf "%.2f", a / b}'))"
fi
