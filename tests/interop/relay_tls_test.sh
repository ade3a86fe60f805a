#!/usr/bin/env bash
# Interop: Debian's pagekite.py connector over TLS tunnels to the kiteline relay
# (--tls_endpoint=fe.test, --tls_default=fe.test):
#  * --fe_certname=fe.test --ca_certs=fe.crt: clear "CONNECT fe.test:443", then TLS verified
#    against fe.crt, then the tunnel handshake inside TLS;
#  * --fe_nocertcheck: a TLS ClientHello without SNI right away (relay uses --tls_default).
# A recording tap between each connector and the relay proves what went over the wire.
# Usage: relay_tls_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

kl_make_certs || { echo "openssl failed"; exit 1; }
# A certificate for the kite name itself, so the relay can also terminate HTTPS for web.test.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$KL_TMP/web.key" \
  -out "$KL_TMP/web.crt" -subj /CN=web.test -addext subjectAltName=DNS:web.test 2>/dev/null
cat "$KL_TMP/web.key" "$KL_TMP/web.crt" > "$KL_TMP/web.pem"
kl_make_file 1k.bin 1024 11111111111111111111111111111111
kl_make_file 16m.bin $((16 << 20)) 12121212121212121212121212121212
kl_start_origin || exit 1

kl_start_relay relay "--tls_endpoint=fe.test:$KL_TMP/fe.pem" \
  "--tls_endpoint=web.test:$KL_TMP/web.pem" --tls_default=fe.test || exit 1

kl_start_tap tap-certname "$RELAY_PORT" || exit 1
TAP_CERTNAME=$TAP_DIR
kl_start_pk pk-certname "$TAP_PORT" http:web.test "$ORIGIN_HTTP" tls
PK_CERTNAME_LOG=$PK_LOGFILE

kl_start_tap tap-nocheck "$RELAY_PORT" || exit 1
TAP_NOCHECK=$TAP_DIR
kl_start_pk pk-nocheck "$TAP_PORT" http:nc.test "$ORIGIN_HTTP" plain --fe_nocertcheck
PK_NOCHECK_LOG=$PK_LOGFILE

kl_wait_grep "$RELAY_LOG" 'kite up .*kite=http:web\.test' 60 ||
  { kl_log "web.test did not register"; tail -n 20 "$RELAY_LOG" "$PK_CERTNAME_LOG"; }
kl_wait_grep "$RELAY_LOG" 'kite up .*kite=http:nc\.test' 30 ||
  { kl_log "nc.test did not register"; tail -n 20 "$RELAY_LOG" "$PK_NOCHECK_LOG"; }
kl_wait_grep "$PK_CERTNAME_LOG" 'domain=web\.test' 10
kl_wait_grep "$PK_NOCHECK_LOG" 'domain=nc\.test' 10

# check_wire DIR MODE: MODE=certname: a connection that starts with the clear
# "CONNECT fe.test:443" preamble, answered 200, then TLS records both ways;
# MODE=nocheck: a connection that starts with a TLS handshake record. In both, the tunnel
# request "CONNECT PageKite:1" never appears in clear.
check_wire() {
  python3 - "$1" "$2" <<'EOF'
import glob, os, sys
d, mode = sys.argv[1], sys.argv[2]
ok = False
for up in sorted(glob.glob(os.path.join(d, 'c*.up'))):
    a = open(up, 'rb').read()
    b = open(up[:-3] + '.down', 'rb').read()
    if b'PageKite:1' in a:
        print('%s: tunnel request in clear: %r' % (os.path.basename(up), a[:60]))
        sys.exit(1)
    if mode == 'certname' and a.startswith(b'CONNECT fe.test:443 HTTP/1.1\r\n'):
        head, _, rest = a.partition(b'\r\n\r\n')
        rhead, _, rrest = b.partition(b'\r\n\r\n')
        print('%s: up %r + %d bytes starting %s; down %r + %d bytes starting %s' % (
            os.path.basename(up), head, len(rest), rest[:3].hex(), rhead, len(rrest),
            rrest[:3].hex()))
        ok = ok or (rest[:2] == b'\x16\x03' and rhead.startswith(b'HTTP/1.0 200')
                    and rrest[:2] == b'\x16\x03')
    elif mode == 'nocheck' and a[:2] == b'\x16\x03':
        print('%s: up starts %s (%d bytes), down starts %s' % (
            os.path.basename(up), a[:6].hex(), len(a), b[:3].hex()))
        ok = ok or b[:2] == b'\x16\x03'
    else:
        print('%s: other connection: %r' % (os.path.basename(up), a[:40]))
sys.exit(0 if ok else 1)
EOF
}

check_kite_line() {  # LOG DOMAIN SSLVALUE: pagekite.py logged the accepted kite
  grep -E "domain=$2" "$1"
  grep -E "domain=$2" "$1" | grep -qE "ssl=$3"
}

check_1k() {
  curl -sS --max-time 30 -H "Host: $1" -o "$KL_TMP/1k.got" "http://127.0.0.1:$RELAY_PORT/f/1k.bin" &&
  cmp "$KL_TMP/1k.got" "$KL_TMP/www/1k.bin" && echo "1024 bytes identical"
}

# The relay terminates TLS for web.test (its --tls_endpoint) and tunnels the plaintext. Done
# 8 times with 1 KiB and once with 16 MiB: with several workers the visitor often lands on a
# worker other than the tunnel's, which exercises the socket move between workers.
check_https_terminated() {
  local i
  for i in 1 2 3 4 5 6 7 8; do
    curl -sS --max-time 10 --cacert "$KL_TMP/web.crt" --resolve "web.test:$RELAY_PORT:127.0.0.1" \
      -o "$KL_TMP/1k.got" "https://web.test:$RELAY_PORT/f/1k.bin" || { echo "attempt $i failed"; return 1; }
    cmp "$KL_TMP/1k.got" "$KL_TMP/www/1k.bin" || return 1
  done
  curl -sS --max-time 60 --cacert "$KL_TMP/web.crt" --resolve "web.test:$RELAY_PORT:127.0.0.1" \
    -o "$KL_TMP/16m.got" "https://web.test:$RELAY_PORT/f/16m.bin" || return 1
  cmp "$KL_TMP/16m.got" "$KL_TMP/www/16m.bin" &&
    echo "8 x 1 KiB and 16 MiB identical over HTTPS (relay-terminated)"
}

check_relay_log_errors() {  # the relay logged no error lines
  local bad; bad=$(grep -E ' (error|critical) ' "$RELAY_LOG")
  [ -z "$bad" ] || { echo "$bad"; return 1; }
  echo "no error lines in the relay log"
}

check_tunnel_count() {
  grep -E 'tunnel (up|down)' "$RELAY_LOG"
  [ "$(grep -c 'tunnel down' "$RELAY_LOG")" -eq 0 ]
}

kl_check certname.kite_registered_ssl_ok check_kite_line "$PK_CERTNAME_LOG" 'web\.test' True
kl_check certname.wire_connect_preamble_then_tls check_wire "$TAP_CERTNAME" certname
kl_check certname.get_1KiB check_1k web.test
kl_check certname.get_16MiB check_get_sha "$RELAY_PORT" web.test /f/16m.bin "$KL_TMP/www/16m.bin"
kl_check certname.https_visitor_relay_terminated check_https_terminated
kl_check certname.pagekite_log_clean kl_pk_log_clean "$PK_CERTNAME_LOG"

kl_check nocertcheck.kite_registered check_kite_line "$PK_NOCHECK_LOG" 'nc\.test' False
kl_check nocertcheck.wire_direct_tls check_wire "$TAP_NOCHECK" nocheck
kl_check nocertcheck.get_1KiB check_1k nc.test
kl_check nocertcheck.get_16MiB check_get_sha "$RELAY_PORT" nc.test /f/16m.bin "$KL_TMP/www/16m.bin"
kl_check nocertcheck.pagekite_log_clean kl_pk_log_clean "$PK_NOCHECK_LOG"

kl_check relay.no_tunnel_down check_tunnel_count
kl_check relay.no_error_lines check_relay_log_errors
kl_finish
