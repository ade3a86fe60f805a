#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# External auth apps (--authdomain=/path/app, spec 8.3) across implementations, with the same
# app (tests/support/pagekite_auth_app.py, AUTH capability: one `APP --auth DOMAIN` per kite,
# answering the kite's secret and quota as JSON):
#  1. Debian's pagekite.py CONNECTOR -> kiteline RELAY with the app: a good secret gets the
#     kite (OK + X-PageKite-Quota, which pagekite.py logs) and serves a GET; a wrong secret is
#     refused with reason signature.
#  2. kiteline CONNECTOR -> pagekite.py RELAY with the same app: the kite goes live, the
#     connector shows the relay's quota, a GET goes through.
# Usage: authapp_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 41414141414141414141414141414141
kl_start_origin || exit 1

APP="$KL_TMP/auth-app.sh"
printf '#!/bin/sh\nexec python3 %s --caps AUTH --log %s "$@"\n' \
  "$HERE/../support/pagekite_auth_app.py" "$KL_TMP/app.log" > "$APP"
chmod 755 "$APP"

# pk_conn NAME FE_PORT KITE SECRET: pagekite.py connector for KITE (http) -> the HTTP origin.
pk_conn() {
  local name=$1 port=$2 kite=$3 secret=$4
  PK_LOGFILE="$KL_TMP/$name.log"; : > "$PK_LOGFILE"
  PK_TIMEOUT=850 PK_LOG="$PK_LOGFILE" \
    kl_bg "$name" 880 bash "$SHARED/interop/pk-backend.sh" "127.0.0.1:$port" "$kite" \
    "$ORIGIN_HTTP" "$secret" plain
}

check_kite_up() { kl_wait_grep "$RELAY_LOG" "kite up .*kite=http:$1( |$)" 30 && grep -F "kite up" "$RELAY_LOG" | grep -F "$1"; }
check_app_line() { grep -F "kite authenticated by authority" "$RELAY_LOG" | grep -F "$1" | grep -F "$2"; }
check_pk_quota() { kl_wait_grep "$1" "quota_bw=$2" 10 && grep -F "quota_bw=$2" "$1" | head -n 2; }
check_refused() { kl_wait_grep "$RELAY_LOG" "kite http:$1 refused: .*reason=$2" 30 && grep -F "kite http:$1 refused" "$RELAY_LOG" | head -n 2; }
check_app_asked() { grep -F -- "$1" "$KL_TMP/app.log" | head -n 2 | grep .; }

# ---- 1. pagekite.py connector -> kiteline relay --authdomain=APP
kl_start_relay relay "--authdomain=$APP" --authdns_timeout=5 || exit 1
pk_conn pk-good "$RELAY_PORT" good.kites.example goodsecret
kl_check "pagekite.py: good secret -> kite up on kiteline" check_kite_up good.kites.example
kl_check "kiteline logs the app's grant" check_app_line good.kites.example "quota 1024 kB"
kl_check "pagekite.py received X-PageKite-Quota: 1024" check_pk_quota "$PK_LOGFILE" 1024
kl_check "GET through kiteline to pagekite.py's kite" check_get_sha "$RELAY_PORT" good.kites.example /f/1k.bin "$KL_TMP/www/1k.bin"
pk_conn pk-wrong "$RELAY_PORT" extra.kites.example wrongsecret
kl_check "pagekite.py: wrong secret -> refused (signature)" check_refused extra.kites.example signature

# ---- 2. kiteline connector -> pagekite.py relay --authdomain=APP
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
PKR_PORT=$(free_port); PKR_LOG="$KL_TMP/pkrelay.log"; : > "$PKR_LOG"
PK_TIMEOUT=850 PK_LOG="$PKR_LOG" PK_EXTRA="--authdomain=$APP --authfail_closed" \
  kl_bg pkrelay 880 bash "$SHARED/interop/pk-frontend.sh" "$PKR_PORT" "$KL_SECRET" plain
kl_wait_grep "$PKR_LOG" "listen=127\.0\.0\.1:$PKR_PORT" 20 || { echo "pagekite.py relay did not start"; cat "$PKR_LOG"; exit 1; }
kl_bg conn 850 "$KITELINE" --clean --nullui "--frontend=127.0.0.1:$PKR_PORT" \
  "--logfile=$KL_TMP/conn.log" "--service_on=http:good.kites.example:127.0.0.1:$ORIGIN_HTTP:goodsecret"
check_conn_live() { kl_wait_grep "$KL_TMP/conn.out" "kite http:good.kites.example live on relay" 30 && grep -F "live on relay" "$KL_TMP/conn.out"; }
check_conn_quota() {
  kl_wait_grep "$KL_TMP/conn.log" "quota 1024 kB" 10 || kl_wait_grep "$KL_TMP/conn.out" "quota 1024 kB" 2 || return 1
  grep -hF "quota 1024 kB" "$KL_TMP/conn.log" "$KL_TMP/conn.out" | head -n 2
}
kl_check "kiteline connector: kite live on pagekite.py with the auth app" check_conn_live
kl_check "pagekite.py asked the app --auth good.kites.example" check_app_asked "--auth good.kites.example"
kl_check "kiteline connector shows the relay's quota" check_conn_quota
kl_check "GET through pagekite.py to kiteline's kite" check_get_sha "$PKR_PORT" good.kites.example /f/1k.bin "$KL_TMP/www/1k.bin"

kl_finish
