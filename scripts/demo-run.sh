#!/usr/bin/env bash
# Runs the demo: a relay and a connector on loopback over a TLS tunnel (a certificate made
# here, verified by the connector), the connector serving scripts/sample-site/ as the kite
# demo.localhost, then prints the URL and the relay's console (--httpd) and waits (Ctrl-C stops
# both).
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

# The tunnel is TLS, verified: a private CA made here signs the relay's certificate for
# relay.localhost, and the connector trusts only that CA (--ca_certs) for that name.
RELAY_NAME=relay.localhost
mkcert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=kiteline demo CA" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$RELAY_NAME" \
    -keyout "$WORK/relay.key" -out "$WORK/relay.csr"
  printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    "$RELAY_NAME" >"$WORK/relay.ext"
  openssl x509 -req -in "$WORK/relay.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
    -CAcreateserial -days 2 -extfile "$WORK/relay.ext" -out "$WORK/relay.crt"
  cat "$WORK/relay.key" "$WORK/relay.crt" >"$WORK/relay.pem"
}
if ! mkcert >"$WORK/openssl.out" 2>&1; then
  echo "making the demo certificate failed:"; cat "$WORK/openssl.out"; exit 1
fi

"$BIN" frontend --clean --host=127.0.0.1 --ports=0 --protos=http \
  --domain="http:*.localhost:$SECRET" --tls_endpoint="$RELAY_NAME:$WORK/relay.pem" \
  --logfile="$WORK/relay.log" --accesslog="$WORK/relay-access.log" --httpd=127.0.0.1:0 \
  >"$WORK/relay.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q 'ready ports=' "$WORK/relay.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -oE 'ready ports=[0-9]+' "$WORK/relay.out" | cut -d= -f2 || true)
if [ -z "$PORT" ]; then echo "relay did not start:"; cat "$WORK/relay.out"; exit 1; fi
CONSOLE=$(grep -oE 'console=[^ ]+' "$WORK/relay.out" | head -n 1 | cut -d= -f2- || true)

"$BIN" --clean --frontend="127.0.0.1:$PORT" --fe_certname="$RELAY_NAME" --ca_certs="$WORK/ca.pem" \
  --kitesecret="$SECRET" --logfile="$WORK/connector.log" --accesslog="$WORK/connector-access.log" \
  "$SITE" demo.localhost >"$WORK/connector.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q ' is live ' "$WORK/connector.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^kiteline connector: \(.*\) is live (via relay .*)$/\1/p' "$WORK/connector.out" | head -n 1)
if [ -z "$URL" ]; then
  echo "connector did not register its kite:"; cat "$WORK/connector.out" "$WORK/connector.log" 2>/dev/null; exit 1
fi
TUNNEL_TLS=$(grep -oE 'TLSv1\.[0-9]+' "$WORK/connector.log" | head -n 1 || true)
echo
echo "  kiteline demo is up: a relay on 127.0.0.1:$PORT and a connector serving $SITE"
echo "  tunnel: ${TUNNEL_TLS:-TLS}, relay certificate $RELAY_NAME verified against the demo's own CA"
echo
echo "  open   $URL"
echo "  or     curl -H 'Host: demo.localhost' http://127.0.0.1:$PORT/hello.txt"
echo
echo "  relay console: $CONSOLE  (status page; ${CONSOLE}metrics for Prometheus)"
echo
printf '  check: '
curl -s -m 5 -H 'Host: demo.localhost' "http://127.0.0.1:$PORT/hello.txt"
echo
for _ in $(seq 1 50); do [ -s "$WORK/relay-access.log" ] && break; sleep 0.1; done
echo "  relay access log: $(tail -n 1 "$WORK/relay-access.log" 2>/dev/null)"
echo
echo "  (Ctrl-C stops the relay and the connector; logs and access logs in $WORK)"
sleep "$LIMIT" & PIDS+=($!)
wait $! || true
