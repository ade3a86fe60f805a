#!/usr/bin/env bash
# Where kiteline's time goes: runs the kiteline chain of bench/run.sh under
# load with `perf record` on the relay and on the connector, and prints
# `perf report --no-children --percent-limit 2` summaries per process and
# workload (by symbol, and by shared object).
#
# Usage: bench/profile.sh [kiteline|kiteline-plain]
#
# Workloads, one after the other, each profiled on its own:
#   download   one curl of the 1 GiB file (capped at PROFILE_S seconds)
#   rps        wrk -t2 -c64 on the 1 KiB file for PROFILE_S seconds
#
# Environment (all optional):
#   KITELINE            kiteline binary (default build/release/src/kiteline;
#                       the release preset is RelWithDebInfo: it has symbols)
#   PROFILE_OUT         output directory (perf.data files, reports) (mktemp -d)
#   PROFILE_S           seconds per workload                           (10)
#   PROFILE_CALLGRAPH   perf record call-graph mode: fp (= -g) or dwarf (fp)
#   PROFILE_FREQ        samples per second                              (999)
#
# Loopback only, free ports picked at run time, every process under
# `timeout` and stopped by PID (perf by SIGINT, so that it writes its file).
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
CHAIN=${1:-kiteline}
case "$CHAIN" in
  kiteline|kiteline-plain) ;;
  -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
  *) echo "profile.sh: chain must be kiteline or kiteline-plain" >&2; exit 2 ;;
esac
PROFILE_S=${PROFILE_S:-10}
CG=${PROFILE_CALLGRAPH:-fp}
FREQ=${PROFILE_FREQ:-999}
KITELINE=$(readlink -f "${KITELINE:-$SRC_DIR/build/release/src/kiteline}")
[ -x "$KITELINE" ] || { echo "profile.sh: no kiteline at $KITELINE (build the release preset or set KITELINE)" >&2; exit 2; }
PATH=$PATH:/usr/sbin
# The peers and tools come from Debian packages (skip with BENCH_NO_INSTALL=1).
if [ "${BENCH_NO_INSTALL:-}" != 1 ]; then
  bash "$SRC_DIR/scripts/install-deps.sh" --bench >&2 || { echo "profile.sh: installing the bench tools failed" >&2; exit 2; }
fi
for tool in perf nginx curl wrk openssl timeout python3; do
  command -v "$tool" >/dev/null || { echo "profile.sh: $tool not found" >&2; exit 2; }
done
PY=$(command -v python3)
TOOL=("$PY" "$BENCH_DIR/lib/benchtool.py")
CHAIN_TTL=$((PROFILE_S * 4 + 300))
ulimit -n "$(ulimit -Hn)" 2>/dev/null

PROFILE_OUT=${PROFILE_OUT:-$(mktemp -d -t bench-profile.XXXXXX)}
mkdir -p "$PROFILE_OUT" || exit 1
PROFILE_OUT=$(cd "$PROFILE_OUT" && pwd)
WORK=$(mktemp -d -t bench-work.XXXXXX) || exit 1

# shellcheck source=lib/origin.sh
. "$BENCH_DIR/lib/origin.sh"
# shellcheck source=lib/chains.sh
. "$BENCH_DIR/lib/chains.sh"

PERF_PIDS=()
cleanup() {
  trap - EXIT INT TERM
  local p
  for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  chain_stop
  origin_stop
  [ -d "$WORK/chains" ] && cp -r "$WORK/chains/." "$PROFILE_OUT/logs/" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "profile.sh: interrupted" >&2; exit 130' INT TERM
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

mkdir -p "$PROFILE_OUT/logs"
ORIGIN_PORT=$(free_ports 1)
log "origin on 127.0.0.1:$ORIGIN_PORT (generating 1 GiB), output $PROFILE_OUT"
origin_start "$WORK/origin" "$ORIGIN_PORT" $((CHAIN_TTL + 120)) || exit 1
make_credentials "$WORK/certs" "$WORK/ssh" || exit 1
cat "$WORK/origin/www/1g.bin" > /dev/null
chain_start "$CHAIN" || { echo "profile.sh: $CHAIN did not start: $CHAIN_ERR" >&2; exit 1; }
log "$CHAIN serving on 127.0.0.1:$CHAIN_PORT"

# The kiteline processes themselves (children of the timeout wrappers):
# relay first, then connector, as CHAIN_PIDS are.
ROLES=(relay connector)
KL_PIDS=()
for i in 0 1; do
  KL_PIDS+=("$("${TOOL[@]}" tree "${CHAIN_PIDS[$i]}" | awk '$3 == "kiteline" {print $1; exit}')")
  [ -n "${KL_PIDS[$i]}" ] || { echo "profile.sh: no kiteline process under ${CHAIN_PIDS[$i]}" >&2; exit 1; }
done
log "relay pid ${KL_PIDS[0]}, connector pid ${KL_PIDS[1]}"

# profile NAME CMD...: perf record on both processes while CMD runs.
profile() {
  local name=$1 i; shift
  PERF_PIDS=()
  for i in 0 1; do
    timeout -s INT -k 10 $((PROFILE_S + 60)) perf record -q -F "$FREQ" --call-graph "$CG" \
      -p "${KL_PIDS[$i]}" -o "$PROFILE_OUT/$name.${ROLES[$i]}.data" \
      >"$PROFILE_OUT/$name.${ROLES[$i]}.record.log" 2>&1 &
    PERF_PIDS+=($!)
  done
  sleep 1
  log "$name: $*"
  "$@" > "$PROFILE_OUT/$name.load.txt" 2>&1
  for i in 0 1; do kill -INT "${PERF_PIDS[$i]}" 2>/dev/null; wait "${PERF_PIDS[$i]}" 2>/dev/null; done
  PERF_PIDS=()
  log "$name: $(tr '\n' ' ' < "$PROFILE_OUT/$name.load.txt" | sed -E 's/ +/ /g' | cut -c1-200)"
}

profile download curl -s -o /dev/null --max-time "$PROFILE_S" -H "Host: $SITE" \
  -w '%{http_code} %{size_download} bytes %{speed_download} B/s\n' "http://127.0.0.1:$CHAIN_PORT/1g.bin"
profile rps timeout -k 5 $((PROFILE_S + 30)) wrk -t2 -c64 -d"${PROFILE_S}s" -H "Host: $SITE" \
  "http://127.0.0.1:$CHAIN_PORT/1k.bin"

# report FILE ARGS...: the flat summary (no call chains), header lines dropped.
report() {
  local f=$1; shift
  perf report -i "$f" --stdio --no-children --percent-limit 2 -g none "$@" 2>/dev/null |
    grep -v '^#' | grep -v '^$'
}
{
  echo "# kiteline profile ($CHAIN), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, perf -F $FREQ --call-graph $CG"
  echo "# kiteline: $KITELINE (git $(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null))"
  for name in download rps; do
    echo
    echo "## $name: $(tr '\n' ' ' < "$PROFILE_OUT/$name.load.txt" | sed -E 's/ +/ /g' | cut -c1-300)"
    for i in 0 1; do
      f=$PROFILE_OUT/$name.${ROLES[$i]}.data
      echo
      echo "### $name, ${ROLES[$i]}: by shared object"
      report "$f" --sort dso
      echo
      echo "### $name, ${ROLES[$i]}: by symbol (>= 2%)"
      report "$f" --sort dso,sym
    done
  done
} > "$PROFILE_OUT/summary.txt"
cat "$PROFILE_OUT/summary.txt"
echo
echo "perf data and reports: $PROFILE_OUT (perf report -i $PROFILE_OUT/download.relay.data)"
