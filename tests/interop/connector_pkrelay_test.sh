#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# Interop: the kiteline CONNECTOR against Debian's pagekite.py RELAY (pk-frontend.sh).
#  plain: kites live (http, raw/22, https); GET 1 KiB and 64 MiB, POST 8 MiB echoed, 50
#         concurrent 1 MiB downloads, raw kite via CONNECT, https kite via CONNECT (end-to-end
#         TLS to the origin), WebSocket echo, pagekite.py log clean; wrong secret (clear refusal
#         in the connector log, few connection attempts in ~5 s); duplicate kite (second
#         connector is told Duplicate and logs it, first kite keeps working).
#  tls:   --fe_certname=fe.test --ca_certs=fe.crt (clear CONNECT preamble) and --tls_direct
#         (ClientHello with SNI at once; needs pagekite-py3fix.py): kite live + GET.
# Usage: connector_pkrelay_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"
export PAGEKITE="$SHARED/interop/pagekite-py3fix.py"

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 21212121212121212121212121212121
kl_make_file 64m.bin $((64 << 20)) 22222222222222222222222222222222
kl_make_file post8m.bin $((8 << 20)) 23232323232323232323232323232323
: > "$KL_TMP/many.list"
for i in $(seq -w 0 49); do
  kl_make_file "m$i.bin" $((1 << 20)) "$(printf '%032x' $((2000 + 10#$i)))"
  echo "/f/m$i.bin $(kl_sha "$KL_TMP/www/m$i.bin")" >> "$KL_TMP/many.list"
done
mv "$KL_TMP/www/post8m.bin" "$KL_TMP/post8m.bin"
kl_start_origin || exit 1
kl_log "origins http=$ORIGIN_HTTP raw=$ORIGIN_RAW tls=$ORIGIN_TLS"

# start_pk_relay NAME MODE(plain|tls): pagekite.py relay on a free port (one retry on a bind
# race); sets PKR_PORT, PKR_PID, PKR_LOG.
start_pk_relay() {
  local name=$1 mode=$2 try
  PKR_LOG="$KL_TMP/$name.log"
  for try in 1 2; do
    PKR_PORT=$(kl_free_port)
    : > "$PKR_LOG"
    PK_TIMEOUT=850 PK_LOG="$PKR_LOG" kl_bg "$name" 880 bash "$SHARED/interop/pk-frontend.sh" \
      "$PKR_PORT" "$KL_SECRET" "$mode"
    PKR_PID=$KL_BG_PID
    if kl_wait_grep "$PKR_LOG" "listen=127\.0\.0\.1:$PKR_PORT" 20; then
      kl_log "pagekite.py relay $name ($mode) on 127.0.0.1:$PKR_PORT"
      return 0
    fi
    kl_log "pagekite.py relay $name did not listen (try $try)"; tail -n 5 "$PKR_LOG" "$KL_TMP/$name.err"
    kl_stop "$PKR_PID"
  done
  return 1
}

# start_conn NAME FE_PORT [ARGS...]: kiteline connector; sets CONN_PID, CONN_LOG, CONN_OUT.
start_conn() {
  local name=$1 port=$2; shift 2
  CONN_LOG="$KL_TMP/$name.log"; CONN_OUT="$KL_TMP/$name.out"
  kl_bg "$name" 850 "$KITELINE" --clean --nullui "--frontend=127.0.0.1:$port" \
    "--logfile=$CONN_LOG" "$@"
  CONN_PID=$KL_BG_PID
}

svc() { echo "--service_on=$1:127.0.0.1:$2:${3:-$KL_SECRET}"; }

# check_live CONN_OUT PK_LOG KITE...: the connector announced each kite live and pagekite.py
# accepted its tunnel. (pagekite.py 1.5.2 logs no per-kite "BE=Live" line at its default log
# level; its "domain=NAME; ... is=FE" lines are visitor requests. The visitor checks that
# follow prove that pagekite.py routes to the kite.)
check_live() {
  local out=$1 pklog=$2 k; shift 2
  for k in "$@"; do
    grep -F "kite $k live on relay" "$out" || { echo "connector never said $k live"; cat "$out"; return 1; }
  done
  grep -qE 'port=[0-9]+; accept=' "$pklog" || { echo "pagekite.py logged no accept"; return 1; }
}

check_1k() {
  curl -sS --max-time 30 -H "Host: $2" -o "$KL_TMP/1k.got" "http://127.0.0.1:$1/f/1k.bin" &&
  cmp "$KL_TMP/1k.got" "$KL_TMP/www/1k.bin" && echo "1024 bytes identical"
}

check_https_connect() {
  local body
  body=$(curl -sS --max-time 30 -k -p -x "http://127.0.0.1:$1" https://tls.test/via-connect) || return 1
  echo "body=$body"
  [ "$body" = 'hello from tls origin path=/via-connect' ]
}

check_pk_log() {  # pagekite.py relay log: no corruption or traceback
  local bad; bad=$(grep -inE 'corrupt|traceback|BugFound' "$1")
  [ -z "$bad" ] || { printf '%s\n' "$bad" | head -n 20; return 1; }
  echo "no corrupt/traceback lines in $(wc -l < "$1") lines"
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
kl_log "=== plain: kiteline connector -> pagekite.py relay"
if start_pk_relay pkrelay-plain plain; then
  PORT=$PKR_PORT; PLAIN_LOG=$PKR_LOG
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
  kl_check plain.websocket_echo python3 "$KL_PY" ws --port "$PORT" --host web.test

  # Wrong secret: a clear error and no reconnect storm.
  kl_check_wrong_secret plain.wrong_secret_refused_no_spin "$PORT" "$ORIGIN_HTTP"

  # Duplicate: a second connector for web.test.
  start_conn conn-dup "$PORT" "$(svc http:web.test "$ORIGIN_HTTP")"
  DUP_PID=$CONN_PID; DUP_LOG=$CONN_LOG
  kl_wait_grep "$DUP_LOG" 'uplicate|live on relay' 30
  check_duplicate() {
    grep -iE 'duplicate|live|refused' "$DUP_LOG" | head -n 3
    grep -qiE 'web\.test refused by relay .*duplicate' "$DUP_LOG" && check_1k "$PORT" web.test
  }
  kl_check plain.duplicate_logged_first_still_serves check_duplicate
  kl_stop "$DUP_PID"
  kl_check plain.pagekite_log_clean check_pk_log "$PLAIN_LOG"
  kl_stop "$C1_PID"
  kl_stop "$PKR_PID"
else
  KL_FAIL=$((KL_FAIL + 1)); KL_FAILED+=(plain.relay_start)
fi

# ---------------------------------------------------------------- TLS relay
kl_log "=== tls: kiteline connector -> pagekite.py relay with --tls_endpoint=fe.test"
if start_pk_relay pkrelay-tls tls; then
  PORT=$PKR_PORT; TLS_LOG=$PKR_LOG
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
  kl_check tls.pagekite_log_clean check_pk_log "$TLS_LOG"
  kl_stop "$PRE_PID"; kl_stop "$DIR_PID"; kl_stop "$PRE_TAP_PID"; kl_stop "$DIR_TAP_PID"
  kl_stop "$PKR_PID"
else
  KL_FAIL=$((KL_FAIL + 1)); KL_FAILED+=(tls.relay_start)
fi
kl_finish
