#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# Forwarding between the relays of a fleet, one hop (issue 24 item 2). Knot DNS on 127.0.0.10
# holds the zone fleet.test; kiteline relays on 127.0.0.11 and 127.0.0.13 (same public port,
# same --fleet_port); a kiteline connector is attached to .11 only, with an http kite
# (web.test) and an https kite (tls.test, TLS done by the origin). The test writes the
# records itself (publishing is another part of the issue). Checks: a visitor sent to .13 gets
# the body byte-exact through forwarding and the origin sees the visitor's own source address
# (127.0.0.99); a POST is echoed byte-exact; the https kite forwarded keeps the origin's
# certificate (SNI) and works through CONNECT; records pointing at .13
# itself or at .11 without the kite give 503 and at most one hop; the peer port closes and logs
# a bad MAC and plain HTTP; with Knot stopped, forwarding goes on from the cache.
# Usage: fleet_forward_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/knot_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/fleet_lib.sh"
kl_init "$@"

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 16m.bin $((16 << 20)) 46464646464646464646464646464646
kl_make_file 4m.bin $((4 << 20)) 49494949494949494949494949494949
kl_start_origin || exit 1
knot_start 127.0.0.10 "$FLEET_ZONE" || exit 1
kl_log "knot on 127.0.0.10:$KNOT_PORT, origins http=$ORIGIN_HTTP tls=$ORIGIN_TLS"

fleet_setup "update add stale.test.$FLEET_ZONE 10 A 127.0.0.13" \
            "update add ghost.test.$FLEET_ZONE 10 A 127.0.0.11" || exit 1

# GET from 127.0.0.99 to RELAY; prints status and the body's sha256.
get_from_99() {
  curl -sS --max-time 60 --interface 127.0.0.99 -H "Host: $2" -o "$KL_TMP/body" \
    -w '%{http_code}' "http://$1:$PUB$3"
}

check_forwarded_body() {
  local code got want
  code=$(get_from_99 127.0.0.13 web.test /f/16m.bin) || return 1
  got=$(kl_sha "$KL_TMP/body"); want=$(kl_sha "$KL_TMP/www/16m.bin")
  echo "status=$code sha256=${got:0:16}... want ${want:0:16}..."
  [ "$code" = 200 ] && [ "$got" = "$want" ] &&
    grep -qE "visitor forwarded rip=127.0.0.99 kite=web.test peer=127.0.0.11:$PEER" "$LOG13" &&
    grep -qE "visitor from fleet .*rip=127.0.0.99" "$LOG11"
}

check_origin_sees_visitor() {
  local code body
  code=$(get_from_99 127.0.0.13 web.test /xff) || return 1
  body=$(cat "$KL_TMP/body")
  echo "status=$code X-Forwarded-For at the origin: $body"
  [ "$code" = 200 ] && [ "$body" = 127.0.0.99 ]
}

check_forwarded_post_echo() {
  local code got want
  code=$(curl -sS --max-time 60 -H 'Host: web.test' -H 'Expect:' --data-binary "@$KL_TMP/www/4m.bin" \
    -H 'Content-Type: application/octet-stream' -o "$KL_TMP/body" -w '%{http_code}' \
    "http://127.0.0.13:$PUB/echo") || return 1
  got=$(kl_sha "$KL_TMP/body"); want=$(kl_sha "$KL_TMP/www/4m.bin")
  echo "status=$code echoed sha256=${got:0:16}... want ${want:0:16}..."
  [ "$code" = 200 ] && [ "$got" = "$want" ]
}

# CONNECT tls.test:443 sent to .13: the CONNECT line is replayed to the holder, which answers it.
check_https_connect_forwarded() {
  local body
  body=$(curl -sS --max-time 30 --cacert "$KL_TMP/tls.crt" -p -x "http://127.0.0.13:$PUB" \
    https://tls.test/via-connect) || return 1
  echo "body=$body"
  [ "$body" = 'hello from tls origin path=/via-connect' ] &&
    grep -qE "visitor forwarded rip=127.0.0.1 kite=tls.test " "$LOG13"
}

fingerprint() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }

check_https_end_to_end() {
  local body got want
  body=$(curl -sS --max-time 30 --interface 127.0.0.99 --cacert "$KL_TMP/tls.crt" \
    --resolve "tls.test:$PUB:127.0.0.13" "https://tls.test:$PUB/via-fleet") || return 1
  echo "body=$body"
  [ "$body" = 'hello from tls origin path=/via-fleet' ] || return 1
  got=$(openssl s_client -connect "127.0.0.13:$PUB" -servername tls.test </dev/null 2>/dev/null |
    fingerprint)
  want=$(fingerprint < "$KL_TMP/tls.crt")
  echo "certificate via .13: $got, origin's: $want"
  [ -n "$got" ] && [ "$got" = "$want" ]
}

# KITE: its record points at a relay that cannot serve it: 503, and at most one hop.
check_stale_503() {
  local kite=$1 code before11 before13
  before13=$(grep -c "visitor forwarded .*kite=$kite " "$LOG13")
  before11=$(grep -c "visitor forwarded" "$LOG11")
  code=$(get_from_99 127.0.0.13 "$kite" /) || return 1
  local hops; hops=$(( $(grep -c "visitor forwarded .*kite=$kite " "$LOG13") - before13 ))
  echo "status=$code forwards by .13: $hops, by .11: $(( $(grep -c "visitor forwarded" "$LOG11") - before11 ))"
  [ "$code" = 503 ] && [ "$hops" -le 1 ] && [ "$(grep -c "visitor forwarded" "$LOG11")" = "$before11" ]
}

# send_signed KEY N: one header shaped like a peer's, signed with KEY, sent N times (a new
# connection each, the same bytes), each followed by a request; prints the bytes each answer had.
send_signed() {
  python3 - "$PEER" "$1" "$2" <<'PY'
import hashlib, hmac, socket, struct, sys, time
sig = bytes([0x0D,0x0A,0x0D,0x0A,0x00,0x0D,0x0A,0x51,0x55,0x49,0x54,0x0A])
mark = bytes([1, 1]) + struct.pack('>Q', int(time.time()))
body = bytes([127,0,0,99, 127,0,0,11]) + struct.pack('>HH', 40000, 80)
tlv = bytes([0xE7]) + struct.pack('>H', len(mark) + 32) + mark
hdr = sig + bytes([0x21, 0x11]) + struct.pack('>H', len(body) + len(tlv) + 32) + body + tlv
hdr += hmac.new(sys.argv[2].encode(), hdr + bytes(32), hashlib.sha256).digest()
sizes = []
for _ in range(int(sys.argv[3])):
    s = socket.create_connection(('127.0.0.11', int(sys.argv[1])), timeout=10)
    s.sendall(hdr + b'GET /xff HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n')
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    sizes.append(len(data))
    s.close()
print(' '.join(str(n) for n in sizes))
PY
}
send_bad_mac() {
  local out; out=$(send_signed not-the-fleet-secret 1) || return 1
  echo "peer port answered $out bytes"
  [ "$out" = 0 ]
}

# A captured header replayed: the first use is served, the same header again is refused.
check_peer_refuses_replay() {
  local out first second i
  for i in 1 2 3; do  # refusals are logged at most once a second: try again if this one was not
    out=$(send_signed "$FLEET_SECRET" 2) || return 1
    read -r first second <<<"$out"
    echo "answers: first $first bytes, replayed $second bytes"
    [ "$first" -gt 0 ] && [ "$second" = 0 ] || return 1
    kl_wait_grep "$LOG11" 'fleet peer connection refused .*reason="header replayed"' 2 && {
      grep -E 'fleet peer connection refused .*header replayed' "$LOG11" | tail -n 1; return 0; }
    sleep 1.1
  done
  return 1
}

check_peer_refuses_bad_mac() {
  local i
  for i in 1 2 3; do
    send_bad_mac || return 1
    kl_wait_grep "$LOG11" 'fleet peer connection refused .*reason="bad MAC"' 2 && {
      grep -E 'fleet peer connection refused .*bad MAC' "$LOG11" | tail -n 1; return 0; }
  done
  return 1
}

check_peer_refuses_plain_http() {
  local i out
  for i in 1 2 3; do
    out=$(curl -sS --max-time 10 -H 'Host: web.test' "http://127.0.0.11:$PEER/xff" 2>&1)
    echo "curl: $out"
    [[ "$out" == *"Empty reply"* ]] || return 1
    kl_wait_grep "$LOG11" 'fleet peer connection refused .*reason="not a PROXY v2 header"' 2 &&
      return 0
  done
  return 1
}

# Knot stopped: the expired answer keeps routing (the failed refresh is logged).
check_cache_while_knot_down() {
  local i code
  knot_stop
  for i in $(seq 40); do
    code=$(get_from_99 127.0.0.13 web.test /xff) || return 1
    [ "$code" = 200 ] || { echo "status $code at request $i"; return 1; }
    grep -q "fleet lookup name=web.test.$FLEET_ZONE .*failed" "$LOG13" && break
    sleep 0.2
  done
  grep -E "fleet lookup name=web.test.$FLEET_ZONE .*failed" "$LOG13" | tail -n 1 | cut -c1-160
  code=$(get_from_99 127.0.0.13 web.test /xff) || return 1
  echo "after the failed refresh: status=$code body=$(cat "$KL_TMP/body")"
  [ "$code" = 200 ] && [ "$(cat "$KL_TMP/body")" = 127.0.0.99 ]
}

kl_check direct_to_holder_works sh -c "curl -sS --max-time 30 -H 'Host: web.test' http://127.0.0.11:$PUB/xff | grep -q 127.0.0.1"
kl_check forwarded_body_byte_exact check_forwarded_body
kl_check origin_sees_visitor_address check_origin_sees_visitor
kl_check https_forwarded_keeps_origin_certificate check_https_end_to_end
kl_check forwarded_post_echoed check_forwarded_post_echo
kl_check https_connect_forwarded check_https_connect_forwarded
kl_check record_pointing_at_itself_503 check_stale_503 stale.test
kl_check record_pointing_at_non_holder_503_one_hop check_stale_503 ghost.test
kl_check routing_from_cache_while_knot_is_down check_cache_while_knot_down
kl_check peer_port_refuses_bad_mac check_peer_refuses_bad_mac
kl_check peer_port_refuses_replay check_peer_refuses_replay
kl_check peer_port_refuses_plain_http check_peer_refuses_plain_http
kl_finish
