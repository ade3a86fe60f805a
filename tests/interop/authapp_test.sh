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

check_app_asked() { grep -F -- "$1" "$KL_TMP/app.log" | head -n 2 | grep .; }

# ---- 1. pagekite.py connector -> kiteline relay --authdomain=APP
kl_start_relay relay "--authdomain=$APP" --authdns_timeout=5 || exit 1
kl_pk_conn pk-good "$RELAY_PORT" good.kites.example goodsecret
kl_check "pagekite.py: good secret -> kite up on kiteline" kl_check_kite_up good.kites.example
kl_check "kiteline logs the app's grant" kl_check_authority_line good.kites.example "quota 1024 kB"
kl_check "pagekite.py received X-PageKite-Quota: 1024" kl_check_pk_quota "$PK_LOGFILE" 1024
kl_check "GET through kiteline to pagekite.py's kite" check_get_sha "$RELAY_PORT" good.kites.example /f/1k.bin "$KL_TMP/www/1k.bin"
kl_pk_conn pk-wrong "$RELAY_PORT" extra.kites.example wrongsecret
kl_check "pagekite.py: wrong secret -> refused (signature)" kl_check_refused extra.kites.example signature

# ---- 2. kiteline connector -> pagekite.py relay --authdomain=APP
kl_pk_relay_with_conn "--authdomain=$APP --authfail_closed" good.kites.example goodsecret || exit 1
kl_check "kiteline connector: kite live on pagekite.py with the auth app" kl_check_conn_live good.kites.example
kl_check "pagekite.py asked the app --auth good.kites.example" check_app_asked "--auth good.kites.example"
kl_check "kiteline connector shows the relay's quota" kl_check_conn_quota 1024
kl_check "GET through pagekite.py to kiteline's kite" check_get_sha "$PKR_PORT" good.kites.example /f/1k.bin "$KL_TMP/www/1k.bin"

kl_finish
