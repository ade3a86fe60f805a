#!/usr/bin/env bash
# 10 000 tunnels against one relay (issue #23, item 7): registration time, the relay's memory
# with every tunnel registered and answering a PING, and recovery after the relay is killed and
# started again on the same port (time until every tunnel is registered again, and a visitor
# probe's latency through one kite once its tunnel is back). The load is
# build/release/bench/kiteline_tunnel_load (bench/tunnel_load.cpp: what it simulates is there).
#
#   bash bench/tunnels.sh [kiteline|pagekite]     (default kiteline)
#
# Environment:
#   N=10000            tunnels (one kite each, kNNNNN.load.test)
#   CONCURRENCY=64     handshakes in flight at once (the tool's connection-rate bound)
#   SOURCES=16         tunnels are bound to 127.0.0.2 .. 127.0.0.(SOURCES+1) in turn
#   PING=30            a tunnel PINGs after this many seconds without input (connector: 116)
#   THREADS=2          relay workers (kiteline --threads)
#   KEY=rsa            relay certificate key: rsa (2048 bits) or ec (P-256)
#   ROUND1_SECONDS=240 after this long, go on with the tunnels that registered
#   MAX_SECONDS=420    the tool stops after this long whatever happened
#   RELAY_EXTRA=       more relay options (word-split)
#   LOAD_NICE=10       niceness of the load instance (the fleet of simulated connectors): a real
#                      fleet runs on other machines, here it shares the relay's two cores; at
#                      a lower priority it takes what the relay leaves instead of preempting it
#                      (LOAD_NICE=0 for the old, harsher setting). The probe instance runs at
#                      the shell's niceness, like the relay.
#   KITELINE, LOAD     binaries (default: build/release/src/kiteline and
#                      build/release/bench/kiteline_tunnel_load, built if missing)
#   PAGEKITE           pagekite.py launcher (default /work/shared/interop/pagekite-py3fix.py when
#                      present: Debian's 1.5.2 with the fix that makes it answer PINGs on
#                      locally authenticated tunnels; else /usr/bin/pagekite)
#   OUT                output directory (default: a new temp dir; kept)
#
# The relay runs at the shell's niceness; the tool too (both share the machine's cores, as a
# connector fleet would not: the figures are a lower bound for the relay). Needs ulimit -n above
# N plus a margin for both processes (kiteline raises its soft limit to the hard one).
set -euo pipefail

which=${1:-kiteline}
N=${N:-10000}
CONCURRENCY=${CONCURRENCY:-64}
SOURCES=${SOURCES:-16}
PING=${PING:-30}
THREADS=${THREADS:-2}
KEY=${KEY:-rsa}
ROUND1_SECONDS=${ROUND1_SECONDS:-240}
LOAD_NICE=${LOAD_NICE:-10}
MAX_SECONDS=${MAX_SECONDS:-420}
SECRET=loadsecret
root=$(cd "$(dirname "$0")/.." && pwd)
KITELINE=${KITELINE:-$root/build/release/src/kiteline}
LOAD=${LOAD:-$root/build/release/bench/kiteline_tunnel_load}
if [ -z "${PAGEKITE:-}" ]; then
  PAGEKITE=/usr/bin/pagekite
  [ -f /work/shared/interop/pagekite-py3fix.py ] && PAGEKITE=/work/shared/interop/pagekite-py3fix.py
fi
OUT=${OUT:-$(mktemp -d /tmp/kiteline-tunnels.XXXXXX)}
mkdir -p "$OUT"

if [ ! -x "$LOAD" ] || { [ "$which" = kiteline ] && [ ! -x "$KITELINE" ]; }; then
  nice -n 10 cmake --build "$root/build/release" --target kiteline kiteline_tunnel_load -j2
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 1000)) ]; then
  ulimit -n $((N + 1000)) 2>/dev/null ||
    { echo "tunnels.sh: ulimit -n $(ulimit -n) is below N + 1000" >&2; exit 2; }
fi

case $KEY in
  rsa) keyopt=(-newkey rsa:2048) ;;
  ec) keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  *) echo "KEY must be rsa or ec" >&2; exit 2 ;;
esac
openssl req -x509 "${keyopt[@]}" -nodes -days 2 -subj /CN=fe.load.test \
  -keyout "$OUT/fe.key" -out "$OUT/fe.crt" 2>/dev/null
cat "$OUT/fe.key" "$OUT/fe.crt" > "$OUT/fe.pem"

relay_pid=
load_pid=
probe_pid=
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
  return 0
}
trap cleanup EXIT

# wait_for FILE REGEX SECONDS
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

PORT=$(free_port)
start_relay() {  # $1: log suffix
  local out=$OUT/relay$1.out
  # shellcheck disable=SC2206
  local extra=(${RELAY_EXTRA:-})
  if [ "$which" = kiteline ]; then
    "$KITELINE" frontend --clean --isfrontend --host=127.0.0.1 "--ports=$PORT" --protos=http \
      "--domain=http:*.load.test:$SECRET" "--tls_endpoint=fe.load.test:$OUT/fe.pem" \
      --tls_default=fe.load.test "--threads=$THREADS" "--logfile=$OUT/relay$1.log" \
      "${extra[@]}" > "$out" 2>&1 &
    relay_pid=$!
    wait_for "$out" '^kiteline relay ready' 20 || { echo "relay not ready: $out" >&2; exit 1; }
  else
    "$PAGEKITE" --clean --nullui --isfrontend --host=127.0.0.1 "--ports=$PORT" --protos=http \
      "--domain=http:*.load.test:$SECRET" "--tls_endpoint=fe.load.test:$OUT/fe.pem" \
      --tls_default=fe.load.test "--logfile=$OUT/relay$1.log" "${extra[@]}" > "$out" 2>&1 &
    relay_pid=$!
    local i
    for ((i = 0; i < 200; i++)); do
      python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
      sleep 0.1
    done
  fi
  echo "relay ($which) pid $relay_pid on 127.0.0.1:$PORT" >&2
}

mem() {  # VmRSS and VmHWM of a pid, MiB
  awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{printf "VmRSS=%.1f MiB VmHWM=%.1f MiB", r/1024, h/1024}' \
    "/proc/$1/status"
}

start_relay 1
# The probe is its own instance (one tunnel, kite kN, a visitor request every 10 ms), as a
# real connector would be: inside the load instance it would wait behind the load's own
# handshakes on the tool's single thread. It holds on after round 2 until told to stop.
"$LOAD" "--port=$PORT" "--secret=$SECRET" --n=1 "--first=$N" --concurrency=1 --sources=1 \
  --sni=fe.load.test "--ping=$PING" "--round1_seconds=$ROUND1_SECONDS" \
  "--max_seconds=$((MAX_SECONDS + 120))" --hold > "$OUT/probe.out" 2>&1 &
probe_pid=$!
if ! wait_for "$OUT/probe.out" '^READY' 60; then
  echo "no READY from the probe; see $OUT/probe.out" >&2
  exit 1
fi
nice -n "$LOAD_NICE" "$LOAD" "--port=$PORT" "--secret=$SECRET" "--n=$N" "--concurrency=$CONCURRENCY" \
  "--sources=$SOURCES" --sni=fe.load.test "--ping=$PING" "--round1_seconds=$ROUND1_SECONDS" \
  "--max_seconds=$MAX_SECONDS" --probe=none --hold > "$OUT/load.out" 2>&1 &
load_pid=$!
if ! wait_for "$OUT/load.out" '^READY' "$MAX_SECONDS"; then
  echo "no READY from the load tool; see $OUT/load.out" >&2
  exit 1
fi
{
  echo "relay: $which, N=$N, concurrency $CONCURRENCY, $SOURCES source addresses, key $KEY"
  echo "relay memory with every tunnel registered: $(mem "$relay_pid")"
  for c in $(pgrep -P "$relay_pid" 2>/dev/null); do
    echo "  child $c ($(tr '\0' ' ' < "/proc/$c/cmdline" | cut -c1-40)): $(mem "$c")"
  done
  echo "relay threads: $(awk '/^Threads/{print $2}' "/proc/$relay_pid/status"), fds: $(ls "/proc/$relay_pid/fd" | wc -l)"
} | tee "$OUT/summary.txt"
kill -9 "$relay_pid"
wait "$relay_pid" 2>/dev/null || true
killed_at=$(date +%s.%N)
start_relay 2
echo "relay restarted $(awk -v a="$killed_at" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b - a}') s after the kill" | tee -a "$OUT/summary.txt"
# Round 2 done: the probe measures a few seconds more with every tunnel back, then stops
# before the load instance does (its exit closes 10 000 tunnels at once, not part of the test).
wait_for "$OUT/load.out" '^RESULT (round2_registered|gave_up)' "$MAX_SECONDS" || true
sleep 3
kill -TERM "$probe_pid" 2>/dev/null || true
wait "$probe_pid" || true
probe_pid=
kill -TERM "$load_pid" 2>/dev/null || true
wait "$load_pid" || true
load_pid=
echo "relay memory after the re-registration: $(mem "$relay_pid")" | tee -a "$OUT/summary.txt"
grep -E '^(RESULT|lost)' "$OUT/load.out" | tee -a "$OUT/summary.txt"
grep -E '^RESULT (probe|round2)' "$OUT/probe.out" | sed 's/^RESULT /RESULT probe-instance /' |
  tee -a "$OUT/summary.txt"
echo "output in $OUT" >&2
