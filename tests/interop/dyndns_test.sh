#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# kiteline connector --dyndns (spec §9.6) against a local update service (dyndns_server.py)
# that checks every signature with pagekite.py's own code:
#  two kiteline relays on 127.0.0.11 and 127.0.0.12 (same port), one connector attached to
#  both with one kite: the service gets an update listing both relays, signed right; one relay
#  stopped -> a new update with the other alone; the service answering `badauth` -> the
#  connector logs the failure with the reply and retries after its back-off (shortened by the
#  test knob KITELINE_TEST_DYNDNS_BACKOFF_MS), and succeeds once the service answers `good`;
#  an https service (certificate for localhost, trusted through SSL_CERT_FILE) with USER:PASS@
#  in the URL gets the update with Basic auth; one whose certificate is not trusted gets none.
# Usage: dyndns_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

SERVER="$KL_HERE/dyndns_server.py"
DLOG="$KL_TMP/ddns.log"
MODE="$KL_TMP/ddns.mode"
: > "$DLOG"
echo good > "$MODE"
kl_bg ddns 120 /usr/bin/python3 "$SERVER" "$KL_SECRET" "$KL_TMP/ddns.port" "$DLOG" "$MODE" 110
kl_wait_grep "$KL_TMP/ddns.port" '^port=[0-9]+' 20 || { cat "$KL_TMP/ddns.err"; exit 1; }
DPORT=$(sed -nE 's/^port=([0-9]+)/\1/p' "$KL_TMP/ddns.port")
kl_log "update service on 127.0.0.1:$DPORT"

kl_start_relay relay-a --host=127.0.0.11 || exit 1
PORT=$RELAY_PORT
RELAY_A=$RELAY_PID
kl_start_relay relay-b --host=127.0.0.12 "--ports=$PORT" || exit 1
RELAY_B=$RELAY_PID

CONN_LOG="$KL_TMP/conn.log"
KITELINE_TEST_DYNDNS_BACKOFF_MS=500 kl_bg conn 110 "$KITELINE" --clean --nullui \
  "--frontend=127.0.0.11:$PORT" "--frontend=127.0.0.12:$PORT" "--logfile=$CONN_LOG" \
  "--dyndns=http://127.0.0.1:$DPORT/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s" \
  "--service_on=http:dyn.test:127.0.0.1:9:$KL_SECRET"
CONN_PID=$KL_BG_PID

both='^update hostname=dyn\.test myip=(127\.0\.0\.11,127\.0\.0\.12|127\.0\.0\.12,127\.0\.0\.11) sign=ok auth=-$'
check_both() {
  kl_wait_grep "$DLOG" "$both" 20 || { cat "$DLOG"; tail -n 20 "$CONN_LOG"; return 1; }
  grep -E "$both" "$DLOG" | head -n 1
  kl_wait_grep "$CONN_LOG" 'dyndns: dyn\.test -> 127\.0\.0\.1[12],127\.0\.0\.1[12]: HTTP 200: good' 10 ||
    { grep dyndns "$CONN_LOG"; return 1; }
  ! grep -q 'sign=bad' "$DLOG"
}
kl_check both_relays_signed check_both

check_one_left() {
  local before
  before=$(grep -cE '^update hostname=dyn\.test myip=127\.0\.0\.11 sign=ok' "$DLOG")
  kl_stop "$RELAY_B"
  kl_wait_grep "$DLOG" '^update hostname=dyn\.test myip=127\.0\.0\.11 sign=ok auth=-$' 20 \
    $((before + 1)) || { cat "$DLOG"; grep -E 'dyndns|relay' "$CONN_LOG" | tail -n 20; return 1; }
  echo "$(wc -l < "$DLOG") update(s) so far; the last: $(tail -n 1 "$DLOG")"
}
kl_check relay_stopped_new_update check_one_left

check_failure_retry() {
  local before
  echo badauth > "$MODE"
  before=$(grep -cE "$both" "$DLOG")
  kl_start_relay relay-b2 --host=127.0.0.12 "--ports=$PORT" || return 1
  # The relay is back: an update with both IPs, refused, logged with the reply ...
  kl_wait_grep "$CONN_LOG" 'dyndns: update of dyn\.test -> .* failed: HTTP 200: badauth' 20 ||
    { grep dyndns "$CONN_LOG"; return 1; }
  grep -m1 'dyndns: update of dyn.test' "$CONN_LOG"
  grep -m1 'next try in' "$CONN_LOG" || return 1
  # ... and sent again after the back-off (the same IPs, a fresh signature).
  kl_wait_grep "$DLOG" "$both" 20 $((before + 2)) || { cat "$DLOG"; return 1; }
  echo good > "$MODE"
  kl_wait_grep "$CONN_LOG" 'dyndns: dyn\.test -> 127\.0\.0\.1[12],127\.0\.0\.1[12]: HTTP 200: good' 30 2 ||
    { grep dyndns "$CONN_LOG"; return 1; }
  echo "$(grep -cE "$both" "$DLOG") updates with both relays, $(grep -c 'failed: HTTP 200: badauth' "$CONN_LOG") refused"
}
kl_check failure_logged_and_retried check_failure_retry

kl_stop "$CONN_PID"

# https: a second service with a self-signed certificate for localhost.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$KL_TMP/dd.key" -out "$KL_TMP/dd.crt" \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" 2>/dev/null || exit 1
cat "$KL_TMP/dd.key" "$KL_TMP/dd.crt" > "$KL_TMP/dd.pem"
SLOG="$KL_TMP/ddns-tls.log"
: > "$SLOG"
echo good > "$KL_TMP/ddns-tls.mode"
kl_bg ddns-tls 60 /usr/bin/python3 "$SERVER" "$KL_SECRET" "$KL_TMP/ddns-tls.port" "$SLOG" \
  "$KL_TMP/ddns-tls.mode" 55 "$KL_TMP/dd.pem"
kl_wait_grep "$KL_TMP/ddns-tls.port" '^port=[0-9]+' 20 || { cat "$KL_TMP/ddns-tls.err"; exit 1; }
SPORT=$(sed -nE 's/^port=([0-9]+)/\1/p' "$KL_TMP/ddns-tls.port")
TLS_URL="https://me:pw@localhost:$SPORT/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s"

check_https() {
  local log="$KL_TMP/conn-tls.log"
  SSL_CERT_FILE="$KL_TMP/dd.crt" kl_bg conn-tls 60 "$KITELINE" --clean --nullui \
    "--frontend=127.0.0.11:$PORT" "--logfile=$log" "--dyndns=$TLS_URL" \
    "--service_on=http:tls-dyn.test:127.0.0.1:9:$KL_SECRET"
  local pid=$KL_BG_PID
  kl_wait_grep "$SLOG" '^update hostname=tls-dyn\.test myip=127\.0\.0\.11 sign=ok auth=me$' 20 ||
    { cat "$SLOG"; grep dyndns "$log"; kl_stop "$pid"; return 1; }
  kl_wait_grep "$log" 'dyndns: tls-dyn\.test -> 127\.0\.0\.11: HTTP 200: good' 10 ||
    { grep dyndns "$log"; kl_stop "$pid"; return 1; }
  kl_stop "$pid"
  tail -n 1 "$SLOG"
}
kl_check https_basic_auth_verified check_https

check_https_untrusted() {
  local log="$KL_TMP/conn-tls2.log" before
  before=$(wc -l < "$SLOG")
  kl_bg conn-tls2 60 "$KITELINE" --clean --nullui \
    "--frontend=127.0.0.11:$PORT" "--logfile=$log" "--dyndns=$TLS_URL" \
    "--service_on=http:tls-dyn2.test:127.0.0.1:9:$KL_SECRET"
  local pid=$KL_BG_PID
  kl_wait_grep "$log" 'dyndns: update of tls-dyn2\.test -> 127\.0\.0\.11 failed: ' 20 ||
    { grep dyndns "$log"; kl_stop "$pid"; return 1; }
  kl_stop "$pid"
  grep -m1 'dyndns: update of' "$log"
  [ "$(wc -l < "$SLOG")" -eq "$before" ]
}
kl_check https_untrusted_refused check_https_untrusted

kl_check no_bad_signatures bash -c "! grep -q 'sign=bad' '$DLOG' '$SLOG'"
kl_stop "$RELAY_A"
kl_finish
