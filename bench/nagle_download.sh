#!/usr/bin/env bash
# 64 MiB downloads through a relay from a connector that writes like libpagekite
# (tests/interop/nagle_connector.py: Nagle on, each chunk's head and body in two
# send() calls), the measurement behind docs/benchmarks.md "Connectors that write
# with Nagle on". Starts the relay (plain tunnel), the connector and RUNS curl
# downloads one after the other; prints status, bytes, seconds and whether the
# body's SHA-256 matched, per download.
#
# Usage: bench/nagle_download.sh RELAY [RUNS] [connector options...]
#   RELAY   a kiteline binary, or "pagekite.py" (Debian's /usr/bin/pagekite, or $PAGEKITE)
#   RUNS    downloads (default 3)
#   connector options, e.g. --window 32768 (a fixed 32 KiB window instead of
#           libpagekite's rule), --chunk 4096
#
# Loopback only, ports from the kernel, every process under `timeout`.
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in -h|--help|"") sed -n '2,15p' "$0"; exit 0 ;; esac
RELAY=$1; shift; RUNS=3
case "${1:-}" in [0-9]*) RUNS=$1; shift ;; esac
CONNECTOR="$BENCH_DIR/../tests/interop/nagle_connector.py"
PAGEKITE=${PAGEKITE:-/usr/bin/pagekite}
for tool in curl openssl python3 timeout sha256sum; do
  command -v "$tool" >/dev/null || { echo "nagle_download.sh: $tool not found" >&2; exit 2; }
done
WORK=$(mktemp -d -t bench-nagle.XXXXXX) || exit 1
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

openssl enc -aes-128-ctr -nosalt -K 00112233445566778899aabbccddeeff \
  -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null |
  head -c $((64 << 20)) > "$WORK/64m.bin"
WANT=$(sha256sum "$WORK/64m.bin" | cut -d' ' -f1)

wait_for() {  # wait_for FILE REGEX: up to 20 s
  local _
  for _ in $(seq 200); do grep -qE -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "nagle_download.sh: timed out waiting for /$2/ in $1" >&2; cat "$1" >&2; return 1
}

if [ "$RELAY" = pagekite.py ]; then
  [ -x "$PAGEKITE" ] || { echo "nagle_download.sh: $PAGEKITE not found" >&2; exit 2; }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  timeout -k 5 900 "$PAGEKITE" --clean --nullui --isfrontend --host=127.0.0.1 "--ports=$PORT" \
    --protos=http "--domain=http:*.test:s3cret" "--logfile=$WORK/relay.log" \
    > "$WORK/relay.out" 2>&1 &
  PIDS+=($!)
  wait_for "$WORK/relay.log" "listen=127.0.0.1:$PORT" || exit 1
else
  [ -x "$RELAY" ] || { echo "nagle_download.sh: $RELAY is not executable" >&2; exit 2; }
  timeout -k 5 900 "$RELAY" --clean --isfrontend --host=127.0.0.1 --ports=0 --protos=http \
    "--domain=http:*.test:s3cret" "--logfile=$WORK/relay.log" > "$WORK/relay.out" 2>&1 &
  PIDS+=($!)
  wait_for "$WORK/relay.out" '^kiteline relay ready ports=[0-9]+' || exit 1
  PORT=$(sed -nE 's/^kiteline relay ready ports=([0-9]+).*/\1/p' "$WORK/relay.out")
fi

timeout -k 5 900 python3 "$CONNECTOR" --relay "$PORT" --kite nagle.test --secret s3cret \
  --file "$WORK/64m.bin" --ready "$WORK/ready" --stats "$WORK/stats" "$@" \
  > "$WORK/conn.out" 2>&1 &
PIDS+=($!)
wait_for "$WORK/ready" '^live' || exit 1

for r in $(seq "$RUNS"); do
  out=$(curl -sS --max-time 300 -H 'Host: nagle.test' -o "$WORK/got.bin" \
    -w '%{http_code} %{size_download} %{time_total}' "http://127.0.0.1:$PORT/big")
  got=$(sha256sum "$WORK/got.bin" | cut -d' ' -f1)
  read -r code size secs <<<"$out"
  echo "download $r: status=$code bytes=$size seconds=$secs sha256=$([ "$got" = "$WANT" ] && echo ok || echo MISMATCH)"
done
echo "connector: $(cat "$WORK/stats")"
