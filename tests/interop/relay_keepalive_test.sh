#!/usr/bin/env bash
# Interop: Debian's pagekite.py connector with --keepalive=10 (pagekite.py clamps it to its
# minimum of 20 s: pk.py `max(PING_INTERVAL_MIN, int(arg))`) left idle on a kiteline relay
# tunnel until it has pinged (at most 50 s): its PING is answered (pagekite.py logs
# tunnel_ping_ms=), nothing declares the tunnel dead, the relay never logs "tunnel down", and a
# GET afterwards still works.
# Usage: relay_keepalive_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

IDLE=50
kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 21212121212121212121212121212121
kl_start_origin || exit 1
kl_start_relay relay || exit 1
kl_start_pk pk "$RELAY_PORT" http:web.test "$ORIGIN_HTTP" plain --keepalive=10
kl_wait_grep "$RELAY_LOG" 'kite up .*kite=http:web\.test' 60 ||
  { kl_log "web.test did not register"; tail -n 20 "$RELAY_LOG" "$PK_LOGFILE"; }

check_1k() {
  curl -sS --max-time 30 -H 'Host: web.test' -o "$KL_TMP/1k.got" "http://127.0.0.1:$RELAY_PORT/f/1k.bin" &&
  cmp "$KL_TMP/1k.got" "$KL_TMP/www/1k.bin" && echo "1024 bytes identical"
}

kl_check before_idle.get_1KiB check_1k
pings_before=$(grep -c 'tunnel_ping_ms=' "$PK_LOGFILE")
kl_log "idling until pagekite.py pings (after 20 s without traffic; at most ${IDLE}s)"
# The event is pagekite.py's answered PING (its log's tunnel_ping_ms=); the checks below fail
# if it never came or the tunnel went down meanwhile.
kl_wait_grep "$PK_LOGFILE" 'tunnel_ping_ms=' "$IDLE" $((pings_before + 1)) ||
  kl_log "no answered PING within ${IDLE}s"

check_pings() {
  local n
  n=$(( $(grep -c 'tunnel_ping_ms=' "$PK_LOGFILE") - pings_before ))
  grep -E 'tunnel_ping_ms=' "$PK_LOGFILE" | sed -E 's/.*(t=[^;]*).*(tunnel_ping_ms=[0-9]+).*/\1 \2/'
  echo "$n PING(s) answered with PONG while idle"
  [ "$n" -ge 1 ]
}

check_no_down() {
  local bad
  bad=$(grep -E 'tunnel down|replaced' "$RELAY_LOG"; grep -E 'dead=' "$PK_LOGFILE")
  [ -z "$bad" ] || { echo "$bad"; return 1; }
  [ "$(grep -c 'kite up' "$RELAY_LOG")" -eq 1 ] || { grep 'kite up' "$RELAY_LOG"; return 1; }
  echo "tunnel stayed up: no tunnel down, no dead tunnel, kite registered once"
}

kl_check idle.pings_answered check_pings
kl_check idle.tunnel_not_dropped check_no_down
kl_check after_idle.get_1KiB check_1k
kl_check pagekite_log_clean kl_pk_log_clean "$PK_LOGFILE"
kl_finish
