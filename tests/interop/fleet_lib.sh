# shellcheck shell=bash
# Two kiteline relays of one fleet for fleet_forward_test.sh and bench/fleet.sh (issue 24),
# sourced after lib.sh and knot_lib.sh; call fleet_setup after kl_start_origin and knot_start
# (zone fleet.test): relays on 127.0.0.11 and 127.0.0.13 with the same public port (PUB) and
# peer port (PEER), a kiteline connector attached to .11 only with web.test (http, the origin's
# ORIGIN_HTTP) and tls.test (https, ORIGIN_TLS, TLS done by the origin), and the records
# KITE.fleet.test -> 127.0.0.11 for both put in Knot with knot_update (publishing is another
# part of the issue). Sets PUB PEER LOG11 LOG13.
# shellcheck disable=SC2034  # PUB, PEER, LOG11, LOG13 are read by the sourcing scripts

FLEET_ZONE=fleet.test
FLEET_SECRET=fleet-s3cret-0123456789abcdef

# fleet_start_relay NAME ADDR: one relay of the fleet; sets RELAY_LOG (kl_start_relay).
fleet_start_relay() {
  local name=$1 addr=$2
  kl_start_relay "$name" "--host=$addr" "--ports=$PUB" "--fleet_dns=$KNOT_ADDR:$KNOT_PORT" \
    "--fleet_zone=$FLEET_ZONE" "--fleet_tsig=$KNOT_KEY" "--fleet_address=$addr" \
    "--fleet_port=$PEER" "--fleet_secret=$FLEET_SECRET" --fleet_cache_seconds=2 || return 1
  kl_wait_grep "$RELAY_LOG" "fleet peer port listening on $addr:$PEER" 10 ||
    { echo "no peer port on $addr"; cat "$RELAY_LOG"; return 1; }
}

# fleet_setup [RECORD LINES...]: relays, connector, records (extra knot_update lines appended).
fleet_setup() {
  local k
  PUB=$(kl_common_port 127.0.0.11 127.0.0.13)
  PEER=$(kl_common_port 127.0.0.11 127.0.0.13)
  if [ -z "$PUB" ] || [ -z "$PEER" ] || [ "$PUB" = "$PEER" ]; then
    echo "no free ports"; return 1
  fi
  fleet_start_relay relay11 127.0.0.11 || return 1
  LOG11=$RELAY_LOG
  fleet_start_relay relay13 127.0.0.13 || return 1
  LOG13=$RELAY_LOG
  kl_bg conn 850 "$KITELINE" --clean --nullui "--frontend=127.0.0.11:$PUB" \
    "--logfile=$KL_TMP/conn.log" \
    "--service_on=http:web.test:127.0.0.1:$ORIGIN_HTTP:$KL_SECRET" \
    "--service_on=https:tls.test:127.0.0.1:$ORIGIN_TLS:$KL_SECRET"
  for k in web.test tls.test; do
    kl_wait_grep "$KL_TMP/conn.out" "kite [a-z]+:$k live on relay" 20 ||
      { echo "kite $k never live"; cat "$KL_TMP/conn.out" "$KL_TMP/conn.err"; return 1; }
  done
  kl_log "relays on 127.0.0.11/.13:$PUB (peer port $PEER), connector on .11 only"
  knot_update "update add web.test.$FLEET_ZONE 10 A 127.0.0.11" \
              "update add tls.test.$FLEET_ZONE 10 A 127.0.0.11" "$@" ||
    { echo "knsupdate failed"; return 1; }
  knot_wait_short "web.test.$FLEET_ZONE" A 127.0.0.11 5
}
