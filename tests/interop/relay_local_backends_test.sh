#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# A relay that also serves its own sites, against pagekite.py's own configuration of it:
# pagekite.py reads dist/examples/relay-with-local-backends.rc and writes its effective
# configuration (--settings); kiteline takes that file as it is (--check-config), and runs it
# on a free port: its three local kites come up on the internal tunnel, and local kites added
# on the command line serve HTTP (Host) and HTTPS (SNI, TLS end to end to the origin) with no
# connector process; an unknown name reaches the catch-all, whose origin is down: the
# --errorurl frameset (where=BE).
# Usage: relay_local_backends_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"
kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 64k.bin 65536 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a
EXAMPLE="$KL_HERE/../../dist/examples/relay-with-local-backends.rc"

check_pagekite_reads_example() {
  timeout 60 pagekite --clean "--optfile=$EXAMPLE" --settings >"$KL_TMP/pk.rc" 2>&1 || return 1
  grep -qx 'isfrontend' "$KL_TMP/pk.rc" && [ "$(grep -c '^service_on' "$KL_TMP/pk.rc")" -eq 3 ] &&
    echo "pagekite.py: $(grep -c '^service_on' "$KL_TMP/pk.rc") service_on lines"
}

check_kiteline_reads_pagekite_settings() {
  timeout 20 "$KITELINE" --clean "--optfile=$KL_TMP/pk.rc" --check-config >"$KL_TMP/check.out" 2>&1
  local rc=$?
  cat "$KL_TMP/check.out"
  [ "$rc" = 0 ] && grep -q '^kiteline: configuration OK (relay)$' "$KL_TMP/check.out"
}

check_local_kites_up() {
  local k
  for k in 'http:unknown' 'http:www\.example\.org' 'https:www\.example\.org' 'http:web\.test' \
           'https:tls\.test'; do
    kl_wait_grep "$RELAY_LOG" "kite up tunnel=[0-9]+ peer=local kite=$k\$" 20 || {
      echo "no local kite $k"; tail -n 20 "$RELAY_LOG"; return 1; }
  done
  echo "5 local kites up"
}

check_http_local() {
  curl -sS --max-time 30 -H 'Host: web.test' -o "$KL_TMP/64k.got" "http://127.0.0.1:$1/f/64k.bin" &&
    cmp "$KL_TMP/64k.got" "$KL_TMP/www/64k.bin" && echo "65536 bytes identical"
}

check_https_local() {
  local body
  body=$(curl -sS --max-time 30 --cacert "$KL_TMP/tls.crt" --resolve "tls.test:$1:127.0.0.1" \
    "https://tls.test:$1/via-sni") || return 1
  echo "body=$body"
  [ "$body" = 'hello from tls origin path=/via-sni' ]
}

# An unknown name goes to the file's catch-all kite (`unknown` -> localhost:8090), whose origin
# is down: the in-process connector's 503 is the --errorurl frameset with where=BE.
check_errorurl() {
  local body
  if (exec 3<>/dev/tcp/127.0.0.1/8090) 2>/dev/null; then
    echo "skipped: something listens on localhost:8090 here"; return 0
  fi
  body=$(curl -sS --max-time 30 -H 'Host: nobody.example.com' "http://127.0.0.1:$1/") || return 1
  echo "$body" | head -c 200
  case "$body" in
    *'src="https://www.example.org/offline/?&amp;where=BE&amp;proto=http&amp;domain=nobody.example.com"'*'Sorry! (be)'*) return 0 ;;
  esac
  return 1
}

kl_check pagekite_reads_example check_pagekite_reads_example
kl_check kiteline_reads_pagekite_settings check_kiteline_reads_pagekite_settings
kl_start_origin || exit 1
# pagekite.py's file, on a free port and logging to a file, with two local kites of this test.
RELAY_EXTRA=("--optfile=$KL_TMP/pk.rc" --ports=0 --protos=http,https "--logfile=$KL_TMP/local.log"
             "--backend=http:web.test:127.0.0.1:$ORIGIN_HTTP:"
             "--backend=https:tls.test:127.0.0.1:$ORIGIN_TLS:")
kl_start_relay local "${RELAY_EXTRA[@]}" || exit 1
kl_check local_kites_up check_local_kites_up
kl_check http_local_backend check_http_local "$RELAY_PORT"
kl_check https_local_backend_sni check_https_local "$RELAY_PORT"
kl_check relay_errorurl check_errorurl "$RELAY_PORT"
kl_finish
