#!/usr/bin/env bash
# Interleaved A/B comparison of two kiteline binaries on the bulk path: the
# kind of measurement behind the figures in docs/benchmarks.md "What made it
# fast" (earlier ones were taken by hand the same way). Each start runs the
# kiteline chain of bench/run.sh once with binary A and once with binary B
# (the order alternating per start), and each chain
# carries DOWNLOADS one-visitor downloads of the 1 GiB file. Per download it
# prints MB/s and the CPU seconds per GiB of the chain's own processes (relay,
# key process, connector: /proc/PID/stat), then the medians per binary.
#
# Usage: bench/ab.sh BIN_A BIN_B [STARTS] [DOWNLOADS]     (defaults 4 and 2)
#
# Environment (all optional):
#   AB_CHAIN            kiteline (TLS tunnel, default) or kiteline-plain
#   AB_PARALLEL         visitors per download (default 1: throughput_1; 8 is
#                       throughput_8's shape, each taking a 128 MiB range)
#   AB_MODE             bulk (default) or rps: each "download" is then wrk (-t1,
#                       AB_RPS_C connections, default 8, for AB_RPS_S seconds, default 3)
#                       on the 1 KiB file, and the figures are requests/s and the
#                       chain's CPU-ms per 1000 requests (small requests, the tunnel's
#                       per-chunk costs)
#   BENCH_KL_FE_EXTRA, BENCH_KL_BE_EXTRA   extra relay / connector options (both binaries)
#   AB_B_FE_EXTRA, AB_B_BE_EXTRA           extra relay / connector options for binary B only
#                       (a feature the older binary A lacks, e.g. "--accesslog=FILE")
#
# Loopback only, free ports picked at run time, every process under `timeout`.
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in -h|--help|"") sed -n '2,26p' "$0"; exit 0 ;; esac
[ $# -ge 2 ] || { echo "ab.sh: two binaries needed (see --help)" >&2; exit 2; }
BIN_A=$(readlink -f "$1"); BIN_B=$(readlink -f "$2")
STARTS=${3:-4}; DOWNLOADS=${4:-2}
CHAIN=${AB_CHAIN:-kiteline}; PAR=${AB_PARALLEL:-1}
MODE=${AB_MODE:-bulk}; RPS_C=${AB_RPS_C:-8}; RPS_S=${AB_RPS_S:-3}
case "$MODE" in
  bulk) N_RPS=0; N_BULK=$DOWNLOADS ;;
  rps) N_RPS=$DOWNLOADS; N_BULK=0 ;;
  *) echo "ab.sh: AB_MODE is bulk or rps" >&2; exit 2 ;;
esac
for b in "$BIN_A" "$BIN_B"; do
  [ -x "$b" ] || { echo "ab.sh: $b is not executable" >&2; exit 2; }
done
PATH=$PATH:/usr/sbin
for tool in nginx curl openssl timeout python3 wrk; do
  command -v "$tool" >/dev/null || { echo "ab.sh: $tool not found (bash scripts/install-deps.sh --bench)" >&2; exit 2; }
done
PY=$(command -v python3)
TOOL=("$PY" "$BENCH_DIR/lib/benchtool.py")
CHAIN_TTL=$(( (STARTS * 2 * DOWNLOADS) * 15 + 300 ))
ulimit -n "$(ulimit -Hn)" 2>/dev/null
WORK=$(mktemp -d -t bench-ab.XXXXXX) || exit 1
# shellcheck source=lib/origin.sh
. "$BENCH_DIR/lib/origin.sh"
# shellcheck source=lib/chains.sh
. "$BENCH_DIR/lib/chains.sh"
cleanup() { trap - EXIT INT TERM; chain_stop; origin_stop; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'echo "ab.sh: interrupted" >&2; exit 130' INT TERM

ORIGIN_PORT=$(free_ports 1)
origin_start "$WORK/origin" "$ORIGIN_PORT" $((CHAIN_TTL + 120)) || exit 1
make_credentials "$WORK/certs" "$WORK/ssh" || exit 1
cat "$WORK/origin/www/1g.bin" > /dev/null
HZ=$(getconf CLK_TCK)

# ticks: CPU ticks of the chain's processes so far.
ticks() { "${TOOL[@]}" cpu "${CHAIN_PIDS[@]}"; }
download() {
  if [ "$PAR" = 1 ]; then
    curl -s -o /dev/null --max-time 10 -H "Host: $SITE" -w '%{size_download}\n' \
      "http://127.0.0.1:$CHAIN_PORT/1g.bin"
  else
    local i step=$(( (1 << 30) / PAR )) pids=()
    for ((i = 0; i < PAR; i++)); do
      curl -s -o /dev/null --max-time 10 -H "Host: $SITE" -r "$((i * step))-$(((i + 1) * step - 1))" \
        -w '%{size_download}\n' "http://127.0.0.1:$CHAIN_PORT/1g.bin" > "$WORK/dl.$i" &
      pids+=($!)
    done
    wait "${pids[@]}"
    for ((i = 0; i < PAR; i++)); do cat "$WORK/dl.$i"; done | awk '{s += $1} END {print s}'
  fi
}

: > "$WORK/results"
SAVED_FE_EXTRA=${BENCH_KL_FE_EXTRA:-}; SAVED_BE_EXTRA=${BENCH_KL_BE_EXTRA:-}
for ((s = 1; s <= STARTS; s++)); do
  if ((s % 2)); then order=(A B); else order=(B A); fi
  for v in "${order[@]}"; do
    # shellcheck disable=SC2034  # KITELINE is read by chain_start (lib/chains.sh)
    if [ "$v" = A ]; then KITELINE=$BIN_A; else KITELINE=$BIN_B; fi
    if [ "$v" = B ]; then
      BENCH_KL_FE_EXTRA="${SAVED_FE_EXTRA} ${AB_B_FE_EXTRA:-}"
      BENCH_KL_BE_EXTRA="${SAVED_BE_EXTRA} ${AB_B_BE_EXTRA:-}"
    else
      BENCH_KL_FE_EXTRA=$SAVED_FE_EXTRA; BENCH_KL_BE_EXTRA=$SAVED_BE_EXTRA
    fi
    chain_start "$CHAIN" || { echo "ab.sh: $CHAIN ($v) did not start: $CHAIN_ERR" >&2; exit 1; }
    for ((d = 1; d <= N_RPS; d++)); do
      t0=$(ticks)
      timeout -k 5 $((RPS_S + 30)) wrk -t1 -c"$RPS_C" -d"${RPS_S}s" -H "Host: $SITE" \
        "http://127.0.0.1:$CHAIN_PORT/1k.bin" > "$WORK/wrk.txt" 2>&1
      t1=$(ticks)
      read -r rps _ _ req errs < <("${TOOL[@]}" wrk "$WORK/wrk.txt")
      [ "${errs:-1}" = 0 ] || echo "ab.sh: wrk errors: ${errs:-?} of ${req:-?}" >&2
      awk -v v="$v" -v s="$s" -v rps="${rps:-0}" -v req="${req:-0}" -v t=$((t1 - t0)) -v hz="$HZ" \
          -v out="$WORK/results" 'BEGIN {
        cpu = req > 0 ? (t / hz) * 1000 / (req / 1000) : 0
        printf "%s start %d: %9.1f req/s  %.3f CPU-ms/1000 req\n", v, s, rps, cpu
        printf "%s %.1f %.3f\n", v, rps, cpu >> out }'
    done
    for ((d = 1; d <= N_BULK; d++)); do
      t0=$(ticks); n0=$(date +%s%N)
      bytes=$(download)
      n1=$(date +%s%N); t1=$(ticks)
      awk -v v="$v" -v s="$s" -v b="$bytes" -v ns=$((n1 - n0)) -v t=$((t1 - t0)) -v hz="$HZ" \
          -v out="$WORK/results" 'BEGIN {
        mbs = b / (ns / 1e9) / 1e6; cpu = (t / hz) / (b / 1073741824)
        printf "%s start %d: %7.1f MB/s  %.3f CPU-s/GiB\n", v, s, mbs, cpu
        printf "%s %.1f %.3f\n", v, mbs, cpu >> out }'
    done
    chain_stop
  done
done
unit1="MB/s"; unit2="CPU-s/GiB"
[ "$MODE" = rps ] && { unit1="req/s"; unit2="CPU-ms/1000 req"; }
echo "medians over $((STARTS * DOWNLOADS)) runs each ($CHAIN, $MODE, $PAR visitor(s)):"
for v in A B; do
  bin=$BIN_A; [ "$v" = B ] && bin=$BIN_B
  awk -v v="$v" -v u1="$unit1" -v u2="$unit2" '$1 == v {m[++n] = $2; c[n] = $3}
    function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
      return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
    END { printf "  %s: %7.1f %s  %.3f %s", v, med(m, n), u1, med(c, n), u2 }' "$WORK/results"
  echo "  ($bin)"
done
