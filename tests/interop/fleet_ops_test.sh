#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# Issue 24, what operators see of a fleet: the console's fleet metrics, the access-log line of
# a forwarded visitor, and overload taking a relay out of the pool fe.ZONE. Knot DNS on
# 127.0.0.10; relay .11 (--overload=2 with cpu/mem off: two live tunnels overload it) holds
# foo; relay .12 forwards. Checks: the publisher's metrics (kites published, in pool, updates,
# zone reads); a visitor forwarded by .12 (counted on both sides, one access-log line on .12);
# no holder and a peer-port connection without a header counted; a second tunnel on .11 takes
# it out of fe.ZONE (in_pool 0), its end brings it back (in_pool 1).
# Usage: fleet_ops_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/knot_lib.sh"
kl_init "$@"
knot_require

ZONE=kite.test
kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 41414141414141414141414141414141
kl_start_origin || exit 1
knot_start 127.0.0.10 "$ZONE" || exit 1

PORT=$(kl_common_port 127.0.0.11 127.0.0.12)
PEER=$(kl_common_port 127.0.0.11 127.0.0.12)
[ -n "$PORT" ] && [ -n "$PEER" ] && [ "$PEER" != "$PORT" ] || { echo "no common free ports"; exit 1; }

declare -A CONSOLE CPID
# start_relay N [EXTRA ARGS]: relay on 127.0.0.N:$PORT with a console; sets CONSOLE[N].
start_relay() {
  local n=$1 name="relay$1"; shift
  kl_bg "$name" 300 "$KITELINE" --clean --isfrontend "--host=127.0.0.$n" "--ports=$PORT" \
    --protos=http "--domain=http:*.test:$KL_SECRET" "--logfile=$KL_TMP/$name.log" \
    "--fleet_dns=$KNOT_ADDR:$KNOT_PORT" "--fleet_zone=$ZONE" "--fleet_tsig=$KNOT_KEY" \
    "--fleet_address=127.0.0.$n" --fleet_ttl=2 --fleet_peer_timeout=30 --fleet_ping_seconds=1 \
    "--fleet_port=$PEER" --fleet_secret=fleet-s3cret-0123456789abcdef --fleet_cache_seconds=2 \
    --httpd=127.0.0.1:0 "$@"
  kl_wait_grep "$KL_TMP/$name.out" '^kiteline relay ready' 20 ||
    { echo "relay $n did not start"; cat "$KL_TMP/$name.out" "$KL_TMP/$name.err"; return 1; }
  CONSOLE[$n]=$(sed -n 's/^kiteline relay ready .* console=\([^ ]*\).*/\1/p' "$KL_TMP/$name.out")
  CONSOLE[$n]=${CONSOLE[$n]%/}
}

start_conn() {
  kl_bg "$1" 250 "$KITELINE" --clean --nullui "--frontend=127.0.0.$2:$PORT" \
    "--logfile=$KL_TMP/$1.log" "--service_on=http:$3:127.0.0.1:$ORIGIN_HTTP:$KL_SECRET"
  CPID[$1]=$KL_BG_PID
}

# metric N SERIES: the value of SERIES (name with its labels, as exposed) on relay N.
metric() {
  curl -sS --max-time 5 "${CONSOLE[$1]}/metrics" | awk -v s="$2" '$1 == s { print $2 }'
}

# wait_metric N SERIES TEST WANT SECS: polls until the value passes `[ value TEST WANT ]`.
wait_metric() {
  local v i
  for i in $(seq $(( $5 * 10 ))); do
    v=$(metric "$1" "$2")
    [ -n "$v" ] && [ "${v%.*}" "$3" "$4" ] && { echo "$2 = $v"; return 0; }
    sleep 0.1
  done
  echo "$2 = '${v:-}' on relay $1, want $3 $4"
  return 1
}

check_published() {
  wait_metric 11 kiteline_relay_fleet_kites_published -eq 1 5 &&
    wait_metric 11 kiteline_relay_fleet_in_pool -eq 1 5 &&
    wait_metric 11 'kiteline_relay_fleet_dns_updates_total{result="ok"}' -gt 0 5 &&
    wait_metric 11 'kiteline_relay_fleet_dns_updates_total{result="refused"}' -eq 0 1 &&
    wait_metric 11 kiteline_relay_fleet_zone_reads_total -gt 0 5 &&
    wait_metric 11 kiteline_relay_fleet_peers_removed_total -eq 0 1
}

check_forwarded() {
  curl -sS --max-time 10 -H "Host: foo.$ZONE" -o "$KL_TMP/1k.fwd" \
    "http://127.0.0.12:$PORT/f/1k.bin" && cmp "$KL_TMP/1k.fwd" "$KL_TMP/www/1k.bin" || return 1
  wait_metric 12 kiteline_relay_fleet_forwarded_total -eq 1 5 &&
    wait_metric 11 kiteline_relay_fleet_peer_visitors_total -eq 1 5 || return 1
  kl_wait_grep "$KL_TMP/access12.log" 'note="?forwarded to 127\.0\.0\.11' 5 ||
    { echo "no access-log line"; cat "$KL_TMP/access12.log"; return 1; }
  grep -F 'forwarded to' "$KL_TMP/access12.log" | tail -n 1
  # The 1 KiB body came back through the splice: bytes_out counts it.
  grep -F 'forwarded to' "$KL_TMP/access12.log" | grep -qE 'bytes_out=(1[0-9]{3}|[2-9][0-9]{3})'
}

check_no_holder() {
  local code
  code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H "Host: nope.$ZONE" \
    "http://127.0.0.12:$PORT/")
  [ "$code" = 503 ] || { echo "status $code"; return 1; }
  wait_metric 12 'kiteline_relay_fleet_forward_failures_total{reason="no_holder"}' -eq 1 5
}

check_peer_refused() {
  exec 3<>"/dev/tcp/127.0.0.11/$PEER" || return 1
  printf 'GET / HTTP/1.0\r\n\r\n' >&3
  exec 3>&-
  wait_metric 11 'kiteline_relay_fleet_peer_refused_total{reason="no_header"}' -eq 1 5 &&
    wait_metric 11 'kiteline_relay_fleet_peer_refused_total{reason="bad_mac"}' -eq 0 1
}

start_relay 11 --overload=2 --overload_cpu=0 --overload_mem=0 || exit 1
start_relay 12 "--accesslog=$KL_TMP/access12.log" || exit 1
start_conn connA 11 "foo.$ZONE"
kl_check foo_published knot_wait_short "foo.$ZONE" A 127.0.0.11 15 || kl_finish
kl_check pool_both knot_wait_short "fe.$ZONE" A $'127.0.0.11\n127.0.0.12' 10
kl_check metrics_published check_published
kl_check forwarded_counted_and_logged check_forwarded
kl_check no_holder_counted check_no_holder
kl_check peer_refusal_counted check_peer_refused

# A second tunnel: load 2 reaches --overload=2.
start_conn connB 11 "bar.$ZONE"
kl_check overload_leaves_pool knot_wait_short "fe.$ZONE" A 127.0.0.12 10
kl_check overload_metric_in_pool_0 wait_metric 11 kiteline_relay_fleet_in_pool -eq 0 5
kl_stop "${CPID[connB]}"
kl_check load_gone_back_in_pool knot_wait_short "fe.$ZONE" A $'127.0.0.11\n127.0.0.12' 10
kl_check metric_in_pool_1 wait_metric 11 kiteline_relay_fleet_in_pool -eq 1 5
kl_check status_json_fleet bash -c "curl -sS --max-time 5 '${CONSOLE[11]}/status.json' | grep -o '\"fleet\":{[^}]*}'"
kl_finish
