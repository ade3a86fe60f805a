#!/usr/bin/env bash
# Interop: Debian's pagekite.py connector over a plain-TCP tunnel to the kiteline relay, once with
# its defaults (ZChunks, AddKites: Flow B) and once with --nozchunks (Flow A). Through each: GET
# 1 KiB and 64 MiB, POST 8 MiB echoed, 50 concurrent 1 MiB downloads, a raw kite via CONNECT,
# an https kite via CONNECT and via SNI (end-to-end TLS to the origin), a WebSocket echo.
# Usage: relay_plain_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 01010101010101010101010101010101
kl_make_file 64m.bin $((64 << 20)) 02020202020202020202020202020202
kl_make_file post8m.bin $((8 << 20)) 03030303030303030303030303030303
: > "$KL_TMP/many.list"
for i in $(seq -w 0 49); do
  kl_make_file "m$i.bin" $((1 << 20)) "$(printf '%032x' $((1000 + 10#$i)))"
  echo "/f/m$i.bin $(kl_sha "$KL_TMP/www/m$i.bin")" >> "$KL_TMP/many.list"
done
mv "$KL_TMP/www/post8m.bin" "$KL_TMP/post8m.bin"
kl_start_origin || exit 1
kl_log "origins http=$ORIGIN_HTTP raw=$ORIGIN_RAW tls=$ORIGIN_TLS"

# check_tap_frames DIR WANT(z|plain): the tunnel connection's frames parsed cleanly in both
# directions; with z, both sides sent ZChunks; with plain, neither did.
check_tap_frames() {
  local dir=$1 want=$2 f n line found=0 rc=0
  for f in "$dir"/c*.up; do
    [ -e "$f" ] || continue
    head -c 18 "$f" | grep -q '^CONNECT PageKite:1' || continue
    n=$(basename "$f" .up); n=${n#c}
    line=$(grep -E "^conn=$n " "$dir/stats.txt")
    echo "tunnel connection: $line"
    grep -qE 'up_frames=[1-9]' <<<"$line" || continue    # Flow A's first connection: no frames
    found=1
    grep -qE 'up_bad=- .*down_bad=-' <<<"$line" || rc=1
    if [ "$want" = z ]; then
      grep -qE 'up_zframes=[1-9]' <<<"$line" && grep -qE 'down_zframes=[1-9]' <<<"$line" || rc=1
    else
      grep -qE 'up_zframes=0 ' <<<"$line" && grep -qE 'down_zframes=0 ' <<<"$line" || rc=1
    fi
  done
  [ $found -eq 1 ] && [ $rc -eq 0 ]
}

check_flow() {
  grep -E 'tunnel up ' "$RELAY_LOG"
  grep -qE "tunnel up .*flow=$1" "$RELAY_LOG"
}

# No tunnel that carried kites went down (Flow A's first, kite-less challenge connection
# closes by design: "tunnel down ... kites=0").
check_no_tunnel_down() {
  local down; down=$(grep -E 'tunnel down' "$RELAY_LOG" | grep -v ' kites=0 ')
  [ -z "$down" ] || { echo "$down"; return 1; }
  echo "no tunnel with kites went down ($(grep -c 'tunnel down' "$RELAY_LOG") kite-less closed)"
}

# pagekite.py raises BugFoundError('Too much data') (and restarts, dropping the tunnel) when
# one 50,393-byte read of the tunnel holds more than 150 frames: the relay must never put more
# than 150 frame starts into any 50,393-byte span of what it sends (tap: down_maxwin).
check_frame_density() {
  local line max=0 v
  while read -r line; do
    v=$(sed -nE 's/.*down_maxwin=([0-9]+).*/\1/p' <<<"$line")
    [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
  done < "$1/stats.txt"
  echo "most relay->connector frames within one pagekite.py read (50,393 bytes): $max (limit 150)"
  [ "$max" -le 150 ]
}

check_kites_live() {
  grep -E 'kite up ' "$RELAY_LOG"
  grep -E 'domain=' "$PK_LOGFILE" | grep -E 'ssl=' | sed 's/^/pagekite: /'
  [ "$(grep -cE 'kite up .*kite=' "$RELAY_LOG")" -eq 3 ] &&
  [ "$(grep -E 'domain=(web|ssh|tls)\.test' "$PK_LOGFILE" | grep -c 'ssl=')" -eq 3 ]
}

check_1k() {
  curl -sS --max-time 30 -H 'Host: web.test' -o "$KL_TMP/1k.got" "http://127.0.0.1:$1/f/1k.bin" &&
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

# 200 keep-alive visitors each finish one GET, idle 1 s, then all hang up at once (the relay
# then sends 200 stream EOFs); afterwards the tunnel must still serve a GET.
check_mass_hangup() {
  python3 "$KL_PY" idle --port "$1" --host web.test --path /f/1k.bin --count 200 --idle 1 \
    --pid "$RELAY_EXE_PID" --strict || return 1
  sleep 2  # give the connector time to process the 200 EOFs before probing it
  check_1k "$1"
}

run_mode() {
  local mode=$1 flow=$2 frames=$3; shift 3
  kl_log "=== mode $mode: pagekite.py ${*:-(defaults)}"
  kl_start_relay "relay-$mode" || { KL_FAIL=$((KL_FAIL + 1)); KL_FAILED+=("$mode.start"); return; }
  local relay_pid=$RELAY_PID port=$RELAY_PORT
  kl_start_tap "tap-$mode" "$port" || { KL_FAIL=$((KL_FAIL + 1)); return; }
  local tap_pid=$KL_BG_PID
  kl_start_pk "pk-$mode" "$TAP_PORT" "http:web.test,raw/22:ssh.test,https:tls.test" \
    "$ORIGIN_HTTP,$ORIGIN_RAW,$ORIGIN_TLS" plain "$@"
  local pk_pid=$PK_PID
  if ! kl_wait_grep "$RELAY_LOG" 'kite up .*kite=' 60 3 ||
     ! kl_wait_grep "$PK_LOGFILE" 'domain=tls\.test.*ssl=|ssl=.*domain=tls\.test' 20; then
    kl_log "kites did not register within 60 s"
    tail -n 20 "$RELAY_LOG" "$PK_LOGFILE" "$KL_TMP/pk-$mode.err"
  fi
  kl_check "$mode.kites_registered" check_kites_live
  kl_check "$mode.handshake_flow_$flow" check_flow "$flow"
  kl_check "$mode.get_1KiB" check_1k "$port"
  kl_check "$mode.get_64MiB" check_get_sha "$port" web.test /f/64m.bin "$KL_TMP/www/64m.bin"
  kl_check "$mode.post_8MiB_echo" check_post_echo "$port" web.test "$KL_TMP/post8m.bin"
  kl_check "$mode.concurrent_50x1MiB" python3 "$KL_PY" many --port "$port" --host web.test \
    --list "$KL_TMP/many.list"
  kl_check "$mode.raw_via_connect" python3 "$KL_PY" connect --port "$port" --target ssh.test:22
  kl_check "$mode.https_via_connect" check_https_connect "$port"
  kl_check "$mode.https_via_sni" check_https_sni "$port"
  kl_check "$mode.websocket_echo" python3 "$KL_PY" ws --port "$port" --host web.test
  kl_check "$mode.200_visitors_hang_up_together" check_mass_hangup "$port"
  sleep 1  # let the tap's 0.5 s stats refresh cover the last transfer
  kl_check "$mode.tunnel_frames_$frames" check_tap_frames "$TAP_DIR" "$frames"
  kl_check "$mode.relay_frames_per_pk_read_le_150" check_frame_density "$TAP_DIR"
  kl_check "$mode.no_tunnel_down" check_no_tunnel_down
  kl_check "$mode.pagekite_log_clean" kl_pk_log_clean "$PK_LOGFILE"
  kl_stop "$pk_pid"
  kl_stop "$tap_pid"
  kl_stop "$relay_pid"
}

run_mode zchunks B z
run_mode nozchunks A plain --nozchunks
kl_finish
