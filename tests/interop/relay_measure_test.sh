#!/usr/bin/env bash
# Interop measurements (printed, not thresholds) with Debian's pagekite.py connector (defaults:
# ZChunks, Flow B) on a kiteline relay:
#  1. a 1 GiB download through relay + connector: MB/s (the body's SHA-256 is still checked);
#     skipped with a note when the temp dir has less than 3 GiB free;
#  2. the relay's resident memory (VmRSS) with 1000 idle keep-alive visitor streams open
#     (each sent one complete GET and read its response), and how many are alive after 5 s.
# Fails only when the chain is broken (no tunnel, wrong bytes, no visitor stream at all).
# Usage: relay_measure_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

# 1000 visitors + 1000 origin sockets at the connector: make sure the fd limit allows it.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] ||
  kl_log "note: open-file limit $(ulimit -n) may cap the 1000-stream measurement"

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 31313131313131313131313131313131
kl_start_origin || exit 1
kl_start_relay relay || exit 1
kl_start_pk pk "$RELAY_PORT" http:web.test "$ORIGIN_HTTP" plain
kl_wait_grep "$RELAY_LOG" 'kite up .*kite=http:web\.test' 60 ||
  { kl_log "web.test did not register"; tail -n 20 "$RELAY_LOG" "$PK_LOGFILE"; }
kl_check chain.get_1KiB check_get_sha "$RELAY_PORT" web.test /f/1k.bin "$KL_TMP/www/1k.bin"

measure_1gib() {
  local avail want got info code size secs
  avail=$(df --output=avail -B1 "$KL_TMP" | tail -n 1)
  if [ "$avail" -lt $((3 << 30)) ]; then
    echo "MEASURE 1GiB: skipped, only $((avail >> 20)) MiB free in $KL_TMP (need 3 GiB)"
    return 0
  fi
  kl_make_file 1g.bin $((1 << 30)) 32323232323232323232323232323232
  want=$(kl_sha "$KL_TMP/www/1g.bin")
  got=$(curl -sS --max-time 500 -H 'Host: web.test' \
    -w '%{stderr}%{http_code} %{size_download} %{time_total}\n' \
    "http://127.0.0.1:$RELAY_PORT/f/1g.bin" 2>"$KL_TMP/1g.info" | sha256sum | cut -d' ' -f1)
  info=$(tail -n 1 "$KL_TMP/1g.info")
  rm -f "$KL_TMP/www/1g.bin"
  read -r code size secs <<<"$info"
  echo "MEASURE 1GiB: status=$code bytes=$size time=${secs}s" \
    "throughput=$(awk -v b="$size" -v t="$secs" 'BEGIN{printf "%.1f MB/s (%.1f MiB/s)", b/t/1e6, b/t/1048576}')" \
    "sha256 $([ "$got" = "$want" ] && echo matches || echo "MISMATCH got=$got want=$want")"
  [ "$code" = 200 ] && [ "$got" = "$want" ]
}

measure_idle() {
  local out
  out=$(python3 "$KL_PY" idle --port "$RELAY_PORT" --host web.test --path /f/1k.bin \
    --count 1000 --pid "$RELAY_EXE_PID" --idle 5) ; local rc=$?
  printf '%s\n' "$out" | sed 's/^/MEASURE /'
  return $rc
}

kl_check measure.download_1GiB measure_1gib
kl_check measure.relay_rss_1000_idle_streams measure_idle
kl_check chain.get_1KiB_after check_get_sha "$RELAY_PORT" web.test /f/1k.bin "$KL_TMP/www/1k.bin"
grep -E 'tunnel down' "$RELAY_LOG" | sed 's/^/relay log: /'
kl_check chain.pagekite_log_clean kl_pk_log_clean "$PK_LOGFILE"
kl_finish
