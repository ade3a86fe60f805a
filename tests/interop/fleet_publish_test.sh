#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# Issue 24, items 1 and 3: relays publish the kites they hold in DNS and watch each other.
# Knot DNS on 127.0.0.10 (zone kite.test, TSIG key, update+transfer ACL); kiteline relays on
# 127.0.0.11-13 with one public port number; kiteline connectors register foo.kite.test on .11
# and .12. Checks: a stale record with .13's address goes when .13 starts; kdig shows exactly
# the holders and the pool; a connector leaving takes its relay's address off the kite; SIGKILL
# of .12 -> its records gone within --fleet_peer_timeout (seconds printed); a visitor sent to
# .13 (no tunnel for foo) is served by forwarding to a holder, with its address at the origin,
# before and after the SIGKILL and from the cache while Knot is down; Knot stopped ->
# visitors go on, a kite registered meanwhile appears after the restart; a wrong TSIG key is
# refused, logged, and nothing is published; a graceful stop deletes the relay's records.
# Usage: fleet_publish_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/knot_lib.sh"
kl_init "$@"
knot_require

ZONE=kite.test
kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 41414141414141414141414141414141
kl_start_origin || exit 1

mkdir -p "$KL_TMP/knot"
echo 'old 60 A 127.0.0.13' > "$KL_TMP/knot/extra.zone"
knot_start 127.0.0.10 "$ZONE" || exit 1
kl_log "knot on $KNOT_ADDR:$KNOT_PORT"

# Port numbers free on .11-.14: the public port and the peer port (relays share them).
PORT=$(kl_common_port 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14)
PEER=$(kl_common_port 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14)
[ -n "$PEER" ] && [ "$PEER" != "$PORT" ] || { echo "no second common free port"; exit 1; }
[ -n "$PORT" ] || { echo "no common free port"; exit 1; }

declare -A RPID RWRAP CPID  # relay N -> kiteline's pid / its timeout wrapper; connector -> pid
# start_fleet_relay N [EXTRA ARGS]: relay on 127.0.0.N:$PORT; sets RPID[N], RWRAP[N].
start_fleet_relay() {
  local n=$1 name="relay$1"; shift
  kl_bg "$name" 900 "$KITELINE" --clean --isfrontend "--host=127.0.0.$n" "--ports=$PORT" \
    --protos=http,https,raw --rawports=virtual "--domain=http,https,raw:*.test:$KL_SECRET" \
    "--logfile=$KL_TMP/$name.log" "--fleet_dns=$KNOT_ADDR:$KNOT_PORT" "--fleet_zone=$ZONE" \
    "--fleet_address=127.0.0.$n" --fleet_ttl=2 --fleet_peer_timeout=3 --fleet_ping_seconds=1 \
    "--fleet_port=$PEER" --fleet_secret=fleet-s3cret-0123456789abcdef --fleet_cache_seconds=2 \
    "$@"
  local wrapper=$KL_BG_PID
  kl_wait_grep "$KL_TMP/$name.out" '^kiteline relay ready' 20 ||
    { echo "relay $n did not start"; cat "$KL_TMP/$name.out" "$KL_TMP/$name.err"; return 1; }
  RPID[$n]=$(pgrep -P "$wrapper" | head -n 1)
  RWRAP[$n]=$wrapper
}

# start_conn NAME RELAY_N KITE: kiteline connector for KITE on relay N; sets CPID[NAME].
start_conn() {
  kl_bg "$1" 850 "$KITELINE" --clean --nullui "--frontend=127.0.0.$2:$PORT" \
    "--logfile=$KL_TMP/$1.log" "--service_on=http:$3:127.0.0.1:$ORIGIN_HTTP:$KL_SECRET"
  CPID[$1]=$KL_BG_PID
}

# kl_check runs its command in a subshell: processes are started out here, checks in there.
check_stale_removed() {
  knot_wait_short "old.$ZONE" A "" 10 && knot_wait_short "fe.$ZONE" A "127.0.0.13" 10
}

check_two_holders() {
  knot_wait_short "foo.$ZONE" A $'127.0.0.11\n127.0.0.12' 15 || return 1
  knot_wait_short "fe.$ZONE" A $'127.0.0.11\n127.0.0.12\n127.0.0.13' 10 || return 1
}

check_sigkill_peer_removed() {
  local t0 t1
  t0=$(date +%s%N)
  kill -KILL "${RPID[12]}"
  knot_wait_short "fe.$ZONE" A $'127.0.0.11\n127.0.0.13' 15 || return 1
  knot_wait_short "foo.$ZONE" A "127.0.0.11" 5 || return 1
  t1=$(date +%s%N)
  echo "SIGKILL of relay .12 -> its records gone after $(( (t1 - t0) / 1000000 )) ms (--fleet_peer_timeout=3 --fleet_ping_seconds=1)"
  grep -h "peer 127.0.0.12 silent" "$KL_TMP"/relay1[13].log | head -n 2
}

# forwarded_visit: a visitor from 127.0.0.99 sent to .13 (which holds no foo) is served through
# forwarding to a holder, byte-exact, and the origin sees 127.0.0.99 in X-Forwarded-For.
forwarded_visit() {
  local xff
  curl -sS --max-time 10 --interface 127.0.0.99 -H "Host: foo.$ZONE" -o "$KL_TMP/1k.fwd" \
    "http://127.0.0.13:$PORT/f/1k.bin" && cmp "$KL_TMP/1k.fwd" "$KL_TMP/www/1k.bin" || return 1
  xff=$(curl -sS --max-time 10 --interface 127.0.0.99 -H "Host: foo.$ZONE" "http://127.0.0.13:$PORT/xff") || return 1
  echo "forwarded by .13; the origin saw X-Forwarded-For: $xff"
  [[ "$xff" == *127.0.0.99* ]]
}

visit_foo() {
  curl -sS --max-time 10 -H "Host: foo.$ZONE" -o "$KL_TMP/1k.got" "http://127.0.0.11:$PORT/f/1k.bin" &&
    cmp "$KL_TMP/1k.got" "$KL_TMP/www/1k.bin" && echo "visitor served"
}

check_wrong_key() {
  kl_wait_grep "$KL_TMP/relay14.log" 'check --fleet_tsig: the server refused the key' 10 ||
    { echo "no refusal logged"; tail "$KL_TMP/relay14.log"; return 1; }
  grep -m1 'failed TSIG verification' "$KL_TMP/relay14.log"
  ! knot_short "fe.$ZONE" A | grep -qF 127.0.0.14
}

kl_check stale_record_seeded knot_wait_short "old.$ZONE" A "127.0.0.13" 5
start_fleet_relay 13 "--fleet_tsig=$KNOT_KEY" || exit 1
kl_check stale_removed_at_start check_stale_removed

start_fleet_relay 11 "--fleet_tsig=$KNOT_KEY" || exit 1
start_fleet_relay 12 "--fleet_tsig=$KNOT_KEY" || exit 1
start_conn connA 11 "foo.$ZONE"
start_conn connB 12 "foo.$ZONE"
kl_check two_holders check_two_holders || kl_finish
# For the closing note: a kite held by two relays, as a resolver sees it.
kl_log "kdig @$KNOT_ADDR -p $KNOT_PORT foo.$ZONE A:"
kdig @"$KNOT_ADDR" -p "$KNOT_PORT" +time=1 +retry=0 "foo.$ZONE" A | sed 's/^/    /'

kl_check forwarded_visitor forwarded_visit
kl_stop "${CPID[connB]}"
kl_check connector_leaves knot_wait_short "foo.$ZONE" A "127.0.0.11" 10

start_conn connB2 12 "foo.$ZONE"
knot_wait_short "foo.$ZONE" A $'127.0.0.11\n127.0.0.12' 15
kl_check sigkill_peer_removed check_sigkill_peer_removed
kl_check forwarded_after_sigkill forwarded_visit

knot_stop
kl_check knot_down_visitor visit_foo
start_conn connC 13 "bar.$ZONE"
kl_check knot_down_kite_up kl_wait_grep "$KL_TMP/relay13.log" "kite up .*bar.$ZONE" 15
kl_check knot_down_visitor2 visit_foo
kl_check knot_down_forwarded_from_cache forwarded_visit
knot_restart || exit 1
kl_check kite_after_knot_restart knot_wait_short "bar.$ZONE" A "127.0.0.13" 40

start_fleet_relay 14 "--fleet_tsig=hmac-sha256:fleet:$(openssl rand -base64 32)" || exit 1
kl_check wrong_key check_wrong_key

kl_stop "${RWRAP[13]}"
kl_check graceful_stop knot_wait_short "bar.$ZONE" A "" 5
kl_check graceful_stop_pool knot_wait_short "fe.$ZONE" A "127.0.0.11" 5
kl_finish
