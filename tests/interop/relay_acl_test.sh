#!/usr/bin/env bash
# Interop: Debian's pagekite.py connector through a kiteline relay that has every access rule of
# issue 23 set (--client_acl and --tunnel_acl allowing localhost and denying the rest, an
# --accept_acl_file refusing another address, --ratelimit_ips) and says it is overloaded
# (--overload_file holding 1): pagekite.py pings it (seeing X-PageKite-Overloaded, which only
# adds 125 ms to a --frontend relay's score), registers its kite and serves a GET as usual.
# Usage: relay_acl_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 31313131313131313131313131313131
kl_start_origin || exit 1
printf '# kiteline interop\n192\\.0\\.2\\. deny documentation addresses\n' > "$KL_TMP/accept.acl"
echo 1 > "$KL_TMP/overload"
kl_start_relay relay --client_acl=allow:localhost --client_acl=deny:any \
  --tunnel_acl=allow:localhost --tunnel_acl=deny:any "--accept_acl_file=$KL_TMP/accept.acl" \
  --ratelimit_ips=100/60 "--overload_file=$KL_TMP/overload" || exit 1

check_ping_overloaded() {
  local reply
  reply=$(curl -sS --max-time 10 -I -H 'Host: ping.pagekite' "http://127.0.0.1:$RELAY_PORT/ping")
  printf '%s\n' "$reply" | head -n 3
  grep -q '^X-PageKite-Overloaded: Sorry' <<<"$reply"
}
kl_check relay.ping_says_overloaded check_ping_overloaded

kl_start_pk pk "$RELAY_PORT" http:web.test "$ORIGIN_HTTP" plain
kl_check pagekite.kite_registered kl_wait_grep "$RELAY_LOG" 'kite up .*kite=http:web\.test' 60

check_1k() {
  curl -sS --max-time 30 -H 'Host: web.test' -o "$KL_TMP/1k.got" "http://127.0.0.1:$RELAY_PORT/f/1k.bin" &&
  cmp "$KL_TMP/1k.got" "$KL_TMP/www/1k.bin" && echo "1024 bytes identical"
}
kl_check visitor.get_1KiB check_1k

check_no_refusal() {
  local bad
  bad=$(grep -E 'forbidden|rejected|refused|rate-limited' "$RELAY_LOG")
  [ -z "$bad" ] || { echo "$bad"; return 1; }
  echo "no ACL, accept-file or rate-limit refusal in the relay log"
}
kl_check relay.no_refusals check_no_refusal
kl_check pagekite_log_clean kl_pk_log_clean "$PK_LOGFILE"
kl_finish
