#!/usr/bin/env bash
# CPU per new connection of each chain under the setup_rate workload (wrk -t2 -c64, one request
# per connection, 1 KiB file), split into the chain's user and system time, next to what nginx
# and wrk spend and what the whole machine is busy per connection. Chains start as in
# bench/run.sh (bench/lib/chains.sh). Used by docs/benchmarks.md for the setup_rate analysis.
#
#   bash bench/setup_cost.sh [ROUNDS] [CHAIN...]   (default: 3 kiteline ssh-reverse)
#
# Needs the bench tools (scripts/install-deps.sh --bench) and a release build (or $KITELINE).
# Loopback only; every process is stopped by PID at the end.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
PY=$(command -v python3)
TOOL=("$PY" "$BENCH_DIR/lib/benchtool.py")
KITELINE=${KITELINE:-$SRC_DIR/build/release/src/kiteline}
KITELINE_FLOOR=${KITELINE_FLOOR:-$(dirname "$KITELINE")/../bench/kiteline_floor}
CHAIN_TTL=900
PATH=$PATH:/usr/sbin
ROUNDS=${1:-3}
shift || true
CHAINS=("$@")
[ ${#CHAINS[@]} -gt 0 ] || CHAINS=(kiteline ssh-reverse)
WORK=$(mktemp -d -t setup-cost.XXXXXX) || exit 1
# shellcheck source=lib/origin.sh
. "$BENCH_DIR/lib/origin.sh"
# shellcheck source=lib/chains.sh
. "$BENCH_DIR/lib/chains.sh"
trap 'chain_stop; origin_stop; rm -rf "$WORK"' EXIT
ORIGIN_PORT=$(free_ports 1)
origin_start "$WORK/origin" "$ORIGIN_PORT" $((ROUNDS * ${#CHAINS[@]} * 60 + 300)) >/dev/null 2>&1 ||
  { echo "setup_cost.sh: origin failed" >&2; exit 1; }
make_credentials "$WORK/certs" "$WORK/ssh" || { echo "setup_cost.sh: credentials failed" >&2; exit 1; }

ticks() {  # ticks PID...: user and system clock ticks summed
  local u=0 s=0 p a b
  for p in "$@"; do
    read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo "0 0")
    u=$((u + a)); s=$((s + b))
  done
  echo "$u $s"
}
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
printf '%-16s %9s %11s %11s %13s %12s %6s\n' chain conn/s "user us" "sys us" "nginx+wrk us" "busy us" idle
for ((r = 1; r <= ROUNDS; r++)); do
  for c in "${CHAINS[@]}"; do
    chain_start "$c" || { echo "$c: start failed: $CHAIN_ERR" >&2; chain_stop; continue; }
    # shellcheck disable=SC2207
    mine=($("${TOOL[@]}" pids "${CHAIN_PIDS[@]}" | tr ' ' '\n' | cut -d: -f1))
    timeout 30 wrk -t2 -c64 -d7s -H "Host: $SITE" -H 'Connection: close' \
      "http://127.0.0.1:$CHAIN_PORT/1k.bin" > "$WORK/wrk.txt" 2>&1 &
    w=$!
    sleep 1
    # shellcheck disable=SC2207
    others=($(pgrep -f 'nginx: worker') $(pgrep -x wrk))
    read -r u0 s0 < <(ticks "${mine[@]}"); read -r oa ob < <(ticks "${others[@]}")
    o0=$((oa + ob)); i0=$(idle); t0=$(date +%s.%N)
    sleep 5
    read -r u1 s1 < <(ticks "${mine[@]}"); read -r oa ob < <(ticks "${others[@]}")
    o1=$((oa + ob)); i1=$(idle); t1=$(date +%s.%N)
    wait "$w"
    rate=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
    "$PY" - "$c" "${rate:-0}" "$t0" "$t1" "$u0" "$u1" "$s0" "$s1" "$o0" "$o1" "$i0" "$i1" "$(getconf CLK_TCK)" "$(nproc)" <<'PYEOF'
import sys
c, rate, t0, t1, u0, u1, s0, s1, o0, o1, i0, i1, hz, n = sys.argv[1:]
d = float(t1) - float(t0); conns = float(rate) * d; us = 1e6 / int(hz) / max(conns, 1)
busy = int(n) * d * int(hz) - (int(i1) - int(i0))
print(f"{c:16s} {float(rate):9.0f} {(int(u1)-int(u0))*us:11.1f} {(int(s1)-int(s0))*us:11.1f} "
      f"{(int(o1)-int(o0))*us:13.1f} {busy*us:12.1f} {100*(int(i1)-int(i0))/(int(n)*d*int(hz)):5.0f}%")
PYEOF
    chain_stop
  done
done
