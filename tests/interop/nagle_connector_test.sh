#!/usr/bin/env bash
# Interop: connectors that write like libpagekite (nagle_connector.py: Nagle on, each chunk's
# head and body in two send() calls) serve downloads through a kiteline relay over plain TCP.
# Each visitor's body must be byte-exact (SHA-256). No wall-clock limit: how long the stall
# cost before TCP_QUICKACK is in docs/benchmarks.md ("Connectors that write with Nagle on").
#   * libpagekite's window rule, 64 MiB;
#   * a fixed 32 KiB window (a sender that waits for every acknowledgement: the worst case
#     for delayed ACKs), 4 MiB;
#   * frame-density filler: the libpagekite-version connectors received no filler NOOP, a
#     connector claiming pagekite.py's version (1.5.2.201011) did (pagekite.py needs it).
# Usage: nagle_connector_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

NAGLE="$KL_HERE/nagle_connector.py"
kl_make_file 64m.bin $((64 << 20)) 0a0b0c0d0e0f00010203040506070809
kl_make_file 4m.bin $((4 << 20)) 1a1b1c1d1e1f10111213141516171819
kl_start_relay relay || exit 1

# start_nagle NAME KITE FILE [connector args...]: sets NAGLE_STATS; waits until it is live.
start_nagle() {
  local name=$1 kite=$2 file=$3; shift 3
  NAGLE_STATS="$KL_TMP/$name.stats"
  kl_bg "$name" 600 python3 "$NAGLE" --relay "$RELAY_PORT" --kite "$kite" --secret "$KL_SECRET" \
    --file "$KL_TMP/www/$file" --ready "$KL_TMP/$name.ready" --stats "$NAGLE_STATS" \
    --duration 580 "$@"
  kl_wait_grep "$KL_TMP/$name.ready" '^live' 30 ||
    { kl_log "$name did not register"; cat "$KL_TMP/$name.err"; tail -n 20 "$RELAY_LOG"; }
}

# check_download KITE FILE STATS: GET through the relay is byte-exact and the connector served
# it in full.
check_download() {
  local kite=$1 file=$2 stats=$3
  check_get_sha "$RELAY_PORT" "$kite" /big "$KL_TMP/www/$file" || return 1
  kl_wait_grep "$stats" "served_bytes=$(stat -c %s "$KL_TMP/www/$file") " 30 || return 1
  cat "$stats"
}

# check_filler STATS WANT(none|some): filler NOOP frames the connector received.
check_filler() {
  local n
  n=$(sed -nE 's/.*filler_frames=([0-9]+).*/\1/p' "$1")
  cat "$1"
  grep -qE 'skb=[1-9]' "$1" || { echo "the connector saw no SKB: it did not parse the tunnel"; return 1; }
  if [ "$2" = none ]; then [ "${n:-1}" -eq 0 ]; else [ "${n:-0}" -gt 0 ]; fi
}

start_nagle nagle nagle.test 64m.bin
kl_check libpagekite_window.get_64MiB check_download nagle.test 64m.bin "$KL_TMP/nagle.stats"
kl_check libpagekite_version.no_filler check_filler "$KL_TMP/nagle.stats" none

start_nagle nagle32k nagle32k.test 4m.bin --window 32768
kl_check window_32KiB.get_4MiB check_download nagle32k.test 4m.bin "$KL_TMP/nagle32k.stats"
kl_check window_32KiB.no_filler check_filler "$KL_TMP/nagle32k.stats" none

start_nagle pkpy pkpy.test 64m.bin --version 1.5.2.201011
kl_check pagekite_py_version.get_64MiB check_download pkpy.test 64m.bin "$KL_TMP/pkpy.stats"
kl_check pagekite_py_version.gets_filler check_filler "$KL_TMP/pkpy.stats" some

check_relay_log() {
  local bad
  bad=$(grep -E 'framing error|corrupt|refused|evicted' "$RELAY_LOG")
  [ -z "$bad" ] || { echo "$bad" | head -n 20; return 1; }
  echo "no framing error, refusal or eviction in $(wc -l < "$RELAY_LOG") relay log lines"
}
kl_check relay_log_clean check_relay_log
kl_finish
