#!/usr/bin/env bash
# Interop: the kiteline relay's graceful drain with Debian's pagekite.py as connector. pagekite.py
# knows no drain notice: the NOOP chunk carrying X-PageKite-Draining must be ignored by it (no
# traceback, no corrupt chunk, the tunnel stays up), and a 64 MiB download in flight at SIGTERM
# finishes byte-exact before the relay exits on its own.
# Usage: relay_drain_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 64m.bin $((64 << 20)) 05050505050505050505050505050505
kl_start_origin || exit 1

# The relay's streams may be paused by a slow visitor (curl --limit-rate) without eviction.
kl_start_relay relay --evict_after=0 --stalled_after=0 || exit 1
kl_start_pk pk "$RELAY_PORT" "http:web.test" "$ORIGIN_HTTP" plain
kl_wait_grep "$RELAY_LOG" 'kite up .*kite=http:web.test' 60 ||
  { kl_log "pagekite.py did not register"; tail -n 20 "$RELAY_LOG" "$PK_LOGFILE"; exit 1; }

# A download paced by curl (8 MiB/s: about 8 s), so it is surely in flight at SIGTERM.
curl -sS --max-time 120 --limit-rate 8M -H 'Host: web.test' -o "$KL_TMP/drain.body" \
  -w '%{http_code}' "http://127.0.0.1:$RELAY_PORT/f/64m.bin" > "$KL_TMP/drain.code" 2>&1 &
CURL_PID=$!
KL_PIDS+=("$CURL_PID")
deadline=$(( $(date +%s) + 30 ))
while [ "$(stat -c %s "$KL_TMP/drain.body" 2>/dev/null || echo 0)" -lt $((1 << 20)) ] &&
      [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.1  # poll interval of a bounded wait for the first MiB
done
T0=$(date +%s%N)
kill -TERM "$RELAY_EXE_PID"

check_drain_started() {
  kl_wait_grep "$RELAY_LOG" 'drain started: .*1 tunnel\(s\) told, 1 stream\(s\) in flight' 10 &&
    grep -E 'drain started' "$RELAY_LOG"
}
check_refused_while_draining() {
  if curl -sS --max-time 5 -H 'Host: web.test' "http://127.0.0.1:$RELAY_PORT/f/64m.bin" \
       -o /dev/null 2>"$KL_TMP/refused.err"; then
    echo "a new visitor was served during the drain"; return 1
  fi
  grep -i 'refused\|connect' "$KL_TMP/refused.err"
}
check_download_finished() {
  local code got want
  code=$(cat "$KL_TMP/drain.code"); got=$(kl_sha "$KL_TMP/drain.body")
  want=$(kl_sha "$KL_TMP/www/64m.bin")
  echo "status=$code bytes=$(stat -c %s "$KL_TMP/drain.body") sha256=${got:0:16}..."
  [ "$code" = 200 ] && [ "$got" = "$want" ]
}
check_relay_exited() {
  for _ in $(seq 300); do kill -0 "$RELAY_EXE_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$RELAY_EXE_PID" 2>/dev/null; then echo "relay still running"; return 1; fi
  echo "relay exited $(( ($(date +%s%N) - T0) / 1000000 )) ms after SIGTERM"
  grep -E 'drain over: 1 of 1 stream\(s\) finished, 0 cut' "$RELAY_LOG"
}
# pagekite.py ignored the notice: nothing corrupt, no traceback, and it did not drop the
# tunnel itself (the relay closed it, once idle: "tunnel down ... reason="relay draining"").
check_pagekite_ignored_notice() {
  local bad
  bad=$(grep -inE 'corrupt|traceback|BugFound' "$PK_LOGFILE" "$KL_TMP/pk.err")
  [ -z "$bad" ] || { echo "$bad" | head -n 20; return 1; }
  grep -E 'tunnel down .*reason="relay draining"' "$RELAY_LOG"
}

kl_check drain.started check_drain_started
kl_check drain.new_visitor_refused check_refused_while_draining
wait "$CURL_PID"  # bounded by curl's --max-time (kl_check runs checks in a subshell)
kl_check drain.download_64MiB_finished check_download_finished
kl_check drain.relay_exited_by_itself check_relay_exited
kl_check drain.pagekite_ignored_the_notice check_pagekite_ignored_notice
kl_finish
