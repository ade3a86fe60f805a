#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# kiteline connector -> kiteline relay, as processes over loopback.
#  plain relay: kites live (http, raw/22, https); GET 1 KiB and 64 MiB, POST 8 MiB echoed, 50
#    concurrent 1 MiB downloads, raw kite via CONNECT, https kite via CONNECT and via SNI
#    (end-to-end TLS to the origin), WebSocket echo; the folder short form
#    (`kiteline --frontend=.. --kitesecret=.. DIR site.test`): a file byte-exact, the directory
#    listing, `/../` traversal refused; relay restart on the SAME port: seconds until a visitor
#    succeeds again (< 10 s); wrong secret (clear error, no reconnect storm); a second connector
#    for the same kite (both serve).
#  TLS relay (--tls_endpoint=fe.test): CONNECT-preamble tunnel and --tls_direct tunnel: kite
#    live + GET.
# Usage: connector_kiteline_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 31313131313131313131313131313131
kl_make_file 64m.bin $((64 << 20)) 32323232323232323232323232323232
kl_make_file post8m.bin $((8 << 20)) 33333333333333333333333333333333
: > "$KL_TMP/many.list"
for i in $(seq -w 0 49); do
  kl_make_file "m$i.bin" $((1 << 20)) "$(printf '%032x' $((3000 + 10#$i)))"
  echo "/f/m$i.bin $(kl_sha "$KL_TMP/www/m$i.bin")" >> "$KL_TMP/many.list"
done
mv "$KL_TMP/www/post8m.bin" "$KL_TMP/post8m.bin"
mkdir -p "$KL_TMP/site"
kl_make_file site-file.bin 70000 34343434343434343434343434343434
mv "$KL_TMP/www/site-file.bin" "$KL_TMP/site/kiteline-site-file.bin"
echo "OUTSIDE-SECRET-$$" > "$KL_TMP/outside.txt"
kl_start_origin || exit 1
kl_log "origins http=$ORIGIN_HTTP raw=$ORIGIN_RAW tls=$ORIGIN_TLS"

# start_conn NAME FE_PORT [ARGS...]: kiteline connector; sets CONN_PID, CONN_LOG, CONN_OUT.
start_conn() {
  local name=$1 port=$2; shift 2
  CONN_LOG="$KL_TMP/$name.log"; CONN_OUT="$KL_TMP/$name.out"
  kl_bg "$name" 850 "$KITELINE" --clean --nullui "--frontend=127.0.0.1:$port" \
    "--logfile=$CONN_LOG" "$@"
  CONN_PID=$KL_BG_PID
}

svc() { echo "--service_on=$1:127.0.0.1:$2:${3:-$KL_SECRET}"; }

# check_live CONN_OUT RELAY_LOG KITE...: the connector announced each kite live, and the relay
# logged "kite up ... kite=KITE" for each.
check_live() {
  local out=$1 rlog=$2 k; shift 2
  for k in "$@"; do
    grep -F "kite $k live on relay" "$out" || { echo "connector never said $k live"; cat "$out"; return 1; }
    grep -qE "kite up .*kite=$k( |$)" "$rlog" || { echo "relay log has no 'kite up ... kite=$k'"; grep 'kite up' "$rlog"; return 1; }
  done
}

check_1k() {
  curl -sS --max-time 30 -H "Host: $2" -o "$KL_TMP/1k.got" "http://127.0.0.1:$1/f/1k.bin" &&
  cmp "$KL_TMP/1k.got" "$KL_TMP/www/1k.bin" && echo "1024 bytes identical"
}

check_https_connect() {
  local body
  body=$(curl -sS --max-time 30 --cacert "$KL_TMP/tls.crt" -p -x "http://127.0.0.1:$1" \
    https://tls.test/via-connect) || return 1
  echo "body=$body"
  [ "$body" = 'hello from tls origin path=/via-connect' ]
}

check_https_sni() {
  local body
  body=$(curl -sS --max-time 30 --cacert "$KL_TMP/tls.crt" --resolve "tls.test:$1:127.0.0.1" \
    "https://tls.test:$1/via-sni") || return 1
  echo "body=$body"
  [ "$body" = 'hello from tls origin path=/via-sni' ]
}

check_site_file() {
  curl -sS --max-time 30 -H 'Host: site.test' -o "$KL_TMP/site.got" \
    "http://127.0.0.1:$1/kiteline-site-file.bin" &&
  cmp "$KL_TMP/site.got" "$KL_TMP/site/kiteline-site-file.bin" && echo "70000 bytes identical"
}

check_site_listing() {
  local code
  code=$(curl -sS --max-time 30 -H 'Host: site.test' -o "$KL_TMP/site.idx" -w '%{http_code}' \
    "http://127.0.0.1:$1/") || return 1
  echo "status=$code listing bytes=$(stat -c %s "$KL_TMP/site.idx")"
  [ "$code" = 200 ] && grep -q 'kiteline-site-file.bin' "$KL_TMP/site.idx"
}

check_site_traversal() {
  local code path rc=0
  for path in '/../outside.txt' '/%2e%2e/outside.txt' '/sub/../../outside.txt'; do
    code=$(curl -sS --max-time 30 --path-as-is -H 'Host: site.test' -o "$KL_TMP/trav.body" \
      -w '%{http_code}' "http://127.0.0.1:$1$path") || return 1
    echo "$path -> status=$code"
    if [ "$code" = 200 ] || grep -q OUTSIDE-SECRET "$KL_TMP/trav.body"; then rc=1; fi
  done
  return "$rc"
}

# check_wire TAPDIR preamble|direct: what the connector sent (recorded by the tap): the
# tunnel request "PageKite:1" never in clear; preamble: a connection starting with the clear
# "CONNECT fe.test:443 HTTP/1.1" then TLS records; direct: a connection starting with a TLS
# handshake record whose ClientHello carries the SNI name fe.test.
check_wire() {
  python3 - "$1" "$2" <<'PY'
import glob, os, sys
d, mode = sys.argv[1], sys.argv[2]
ok = False
for up in sorted(glob.glob(os.path.join(d, 'c*.up'))):
    a = open(up, 'rb').read()
    if b'PageKite:1' in a:
        print('%s: tunnel request in clear' % os.path.basename(up)); sys.exit(1)
    if mode == 'preamble' and a.startswith(b'CONNECT fe.test:443 HTTP/1.1\r\n'):
        rest = a.partition(b'\r\n\r\n')[2]
        print('%s: clear preamble, then %d bytes starting %s' % (os.path.basename(up), len(rest), rest[:3].hex()))
        ok = ok or rest[:1] == b'\x16'
    if mode == 'direct' and a[:1] == b'\x16':
        print('%s: TLS record first (%s), SNI fe.test: %s' % (os.path.basename(up), a[:3].hex(), b'fe.test' in a[:2048]))
        ok = ok or b'fe.test' in a[:2048]
sys.exit(0 if ok else 1)
PY
}

# ---------------------------------------------------------------- plain relay
kl_log "=== plain: kiteline connector -> kiteline relay"
kl_start_relay relay-plain || exit 1
PORT=$RELAY_PORT; PLAIN_LOG=$RELAY_LOG
start_conn conn-plain "$PORT" "$(svc http:web.test "$ORIGIN_HTTP")" \
  "$(svc raw/22:ssh.test "$ORIGIN_RAW")" "$(svc https:tls.test "$ORIGIN_TLS")"
C1_OUT=$CONN_OUT; C1_LOG=$CONN_LOG; C1_PID=$CONN_PID
t0=$(date +%s%N)
kl_wait_grep "$C1_OUT" 'live on relay' 60 3 || { kl_log "kites not live in 60 s"; tail -n 20 "$C1_LOG"; }
kl_log "3 kites live after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
kl_check plain.kites_live check_live "$C1_OUT" "$PLAIN_LOG" http:web.test raw-22:ssh.test https:tls.test
kl_check plain.get_1KiB check_1k "$PORT" web.test
kl_check plain.get_64MiB check_get_sha "$PORT" web.test /f/64m.bin "$KL_TMP/www/64m.bin"
kl_check plain.post_8MiB_echo check_post_echo "$PORT" web.test "$KL_TMP/post8m.bin"
kl_check plain.concurrent_50x1MiB python3 "$KL_PY" many --port "$PORT" --host web.test \
  --list "$KL_TMP/many.list"
kl_check plain.raw_via_connect python3 "$KL_PY" connect --port "$PORT" --target ssh.test:22
kl_check plain.https_via_connect check_https_connect "$PORT"
kl_check plain.https_via_sni check_https_sni "$PORT"
kl_check plain.websocket_echo python3 "$KL_PY" ws --port "$PORT" --host web.test

# Wrong secret: a clear error, no reconnect storm, and the relay logs the refusal.
kl_check_wrong_secret plain.wrong_secret_refused_no_spin "$PORT" "$ORIGIN_HTTP" "$PLAIN_LOG"

# Duplicate: a second connector for web.test. Unlike pagekite.py's relay (which refuses it as a
# duplicate), a kiteline relay lets several connectors serve one kite and spreads visitors over
# them: both tunnels up, every visitor served.
start_conn conn-dup "$PORT" "$(svc http:web.test "$ORIGIN_HTTP")"
DUP_PID=$CONN_PID; DUP_OUT=$CONN_OUT
kl_wait_grep "$DUP_OUT" 'web\.test live on relay' 30
check_duplicate() {
  local i
  grep -F 'live on relay' "$DUP_OUT" | head -n 1 || { echo "second connector not live"; return 1; }
  [ "$(grep -cE 'kite up .*kite=http:web\.test( |$)' "$PLAIN_LOG")" -ge 2 ] ||
    { echo "relay log: fewer than 2 'kite up' for web.test"; return 1; }
  for i in 1 2 3 4 5 6; do check_1k "$PORT" web.test >/dev/null || { echo "visitor $i failed"; return 1; }; done
  echo "two tunnels serve web.test; 6/6 visitors served"
}
kl_check plain.duplicate_kite_second_connector_also_serves check_duplicate
kl_stop "$DUP_PID"

# Folder short form.
kl_bg conn-site 850 "$KITELINE" --clean "--frontend=127.0.0.1:$PORT" "--kitesecret=$KL_SECRET" \
  "$KL_TMP/site" site.test "--logfile=$KL_TMP/conn-site.log"
SITE_PID=$KL_BG_PID
kl_wait_grep "$KL_TMP/conn-site.out" 'site\.test live on relay' 30 ||
  { kl_log "site.test not live"; tail -n 20 "$KL_TMP/conn-site.out" "$KL_TMP/conn-site.err" "$KL_TMP/conn-site.log"; }
kl_check folder.get_file_exact check_site_file "$PORT"
kl_check folder.directory_listing check_site_listing "$PORT"
kl_check folder.traversal_refused check_site_traversal "$PORT"
kl_stop "$SITE_PID"

# Relay restart on the same port.
OLD_EXE_PID=$RELAY_EXE_PID
kl_stop "$RELAY_PID"
t0=$(date +%s%N)
kl_start_relay relay-restarted "--ports=$PORT" || true
RESTART_OK=0
if [ "${RELAY_PORT:-}" = "$PORT" ]; then
  for _ in $(seq 150); do   # bounded: 150 x (probe + 0.1 s), at most ~30 s
    if curl -sf --max-time 2 -H 'Host: web.test' -o /dev/null "http://127.0.0.1:$PORT/f/1k.bin"; then
      RESTART_OK=1; break
    fi
    sleep 0.1
  done
fi
RESTART_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
check_restart() {
  if kill -0 "$OLD_EXE_PID" 2>/dev/null; then echo "old relay $OLD_EXE_PID still alive"; return 1; fi
  grep -E 'kite up .*web\.test' "$RELAY_LOG" | head -n 1
  grep -qE 'kite up .*web\.test' "$RELAY_LOG" || { echo "restarted relay: no kite up for web.test"; return 1; }
  echo "relay restarted on port $RELAY_PORT (was $PORT); visitor served again after $(awk -v m="$RESTART_MS" 'BEGIN{printf "%.2f", m/1000}') s"
  [ "$RESTART_OK" = 1 ] && [ "$RESTART_MS" -lt 10000 ] && check_1k "$PORT" web.test
}
kl_check plain.relay_restart_same_port_lt_10s check_restart
kl_stop "$C1_PID"
kl_stop "$RELAY_PID"

# ---------------------------------------------------------------- TLS relay
kl_log "=== tls: kiteline connector -> kiteline relay with --tls_endpoint=fe.test"
kl_start_relay relay-tls "--tls_endpoint=fe.test:$KL_TMP/fe.pem" --tls_default=fe.test || exit 1
PORT=$RELAY_PORT; TLS_LOG=$RELAY_LOG
kl_start_tap tap-pre "$PORT" || exit 1
PRE_TAP=$TAP_DIR; PRE_TAP_PORT=$TAP_PORT; PRE_TAP_PID=$KL_BG_PID
kl_start_tap tap-direct "$PORT" || exit 1
DIR_TAP=$TAP_DIR; DIR_TAP_PORT=$TAP_PORT; DIR_TAP_PID=$KL_BG_PID
start_conn conn-pre "$PRE_TAP_PORT" "$(svc http:pre.test "$ORIGIN_HTTP")" --fe_certname=fe.test \
  "--ca_certs=$KL_TMP/fe.crt"
PRE_OUT=$CONN_OUT; PRE_LOG=$CONN_LOG; PRE_PID=$CONN_PID
start_conn conn-direct "$DIR_TAP_PORT" "$(svc http:direct.test "$ORIGIN_HTTP")" --fe_certname=fe.test \
  "--ca_certs=$KL_TMP/fe.crt" --tls_direct
DIR_OUT=$CONN_OUT; DIR_LOG=$CONN_LOG; DIR_PID=$CONN_PID
kl_wait_grep "$PRE_OUT" 'live on relay' 60 || tail -n 20 "$PRE_LOG"
kl_wait_grep "$DIR_OUT" 'live on relay' 30 || tail -n 20 "$DIR_LOG"
kl_check tls.preamble_kite_live check_live "$PRE_OUT" "$TLS_LOG" http:pre.test
kl_check tls.preamble_get_1KiB check_1k "$PORT" pre.test
kl_check tls.preamble_on_wire check_wire "$PRE_TAP" preamble
kl_check tls.direct_kite_live check_live "$DIR_OUT" "$TLS_LOG" http:direct.test
kl_check tls.direct_get_1KiB check_1k "$PORT" direct.test
kl_check tls.direct_on_wire check_wire "$DIR_TAP" direct
kl_stop "$PRE_PID"; kl_stop "$DIR_PID"; kl_stop "$PRE_TAP_PID"; kl_stop "$DIR_TAP_PID"
kl_stop "$RELAY_PID"
kl_finish
