#!/usr/bin/env bash
# Runs the demo: a relay and a connector on loopback, the connector serving scripts/sample-site/
# as the kite demo.localhost, then prints the URL and waits (Ctrl-C stops both).
#   DEMO_SECONDS=N  stop by itself after N seconds (default: run until Ctrl-C)
set -euo pipefail
BIN=${1:?usage: demo-run.sh PATH_TO_KITELINE}
cd "$(dirname "$0")"
SITE=$PWD/sample-site
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
SECRET=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
LIMIT=${DEMO_SECONDS:-86400}

"$BIN" frontend --clean --host=127.0.0.1 --ports=0 --protos=http \
  --domain="http:*.localhost:$SECRET" --logfile="$WORK/relay.log" >"$WORK/relay.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q 'ready ports=' "$WORK/relay.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -oE 'ready ports=[0-9]+' "$WORK/relay.out" | cut -d= -f2 || true)
if [ -z "$PORT" ]; then echo "relay did not start:"; cat "$WORK/relay.out"; exit 1; fi

"$BIN" --clean --frontend="127.0.0.1:$PORT" --kitesecret="$SECRET" --logfile="$WORK/connector.log" \
  "$SITE" demo.localhost >"$WORK/connector.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q 'live' "$WORK/connector.out" 2>/dev/null && break; sleep 0.1; done
if ! grep -q 'live' "$WORK/connector.out"; then
  echo "connector did not register its kite:"; cat "$WORK/connector.out" "$WORK/connector.log" 2>/dev/null; exit 1
fi
echo
echo "  kiteline demo is up: a relay on 127.0.0.1:$PORT and a connector serving $SITE"
echo
echo "  open   http://demo.localhost:$PORT/"
echo "  or     curl -H 'Host: demo.localhost' http://127.0.0.1:$PORT/hello.txt"
echo
printf '  check: '
curl -s -m 5 -H 'Host: demo.localhost' "http://127.0.0.1:$PORT/hello.txt"
echo
echo "  (Ctrl-C stops the relay and the connector; logs in $WORK)"
sleep "$LIMIT" & PIDS+=($!)
wait $! || true
