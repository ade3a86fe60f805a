#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# `kiteline --check-config`: the effective TLS policy as OpenSSL resolves it, for the relay and
# the connector, exit 0; the default policy's exact output; --tls_legacy; a --tls_protocols
# pitfall warned on stderr; a bad list / SSLv3 / mismatched PEM -> exit 2 with the reason.
# Usage: tls_check_config_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"
kl_make_certs || { echo "openssl failed"; exit 1; }

RELAY=(frontend --clean "--domain=http:*.test:$KL_SECRET" "--tls_endpoint=fe.test:$KL_TMP/fe.pem")
CONN=(--clean --frontend=127.0.0.1:443 --fe_certname=fe.test "--kitesecret=$KL_SECRET" 80 a.test)
MODERN="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

# run_check OUT ARGS...: runs kiteline --check-config, keeps stdout/stderr, echoes the rc.
run_check() {
  local out=$1; shift
  timeout 20 "$KITELINE" "$@" --check-config >"$KL_TMP/$out.out" 2>"$KL_TMP/$out.err"
  echo $?
}

check_default() {
  local role=$1 rc; shift
  rc=$(run_check "default-$role" "$@")
  cat "$KL_TMP/default-$role.out"
  printf 'kiteline: configuration OK (%s)\n%s TLS minimum version: TLSv1.2\n%s TLS maximum version: TLSv1.3\n' \
    "$role" "$role" "$role" > "$KL_TMP/want-$role"
  local level; level=$(sed -nE "s/^$role TLS security level: ([0-9]+)$/\1/p" "$KL_TMP/default-$role.out")
  printf '%s TLS security level: %s\n%s TLS 1.3 suites: %s\n%s TLS <=1.2 ciphers: %s\n' \
    "$role" "$level" "$role" "$SUITES" "$role" "$MODERN" >> "$KL_TMP/want-$role"
  [ "$rc" = 0 ] && [ "${level:-0}" -ge 1 ] && [ ! -s "$KL_TMP/default-$role.err" ] &&
    diff "$KL_TMP/want-$role" "$KL_TMP/default-$role.out"
}

check_legacy() {
  local rc; rc=$(run_check legacy "${RELAY[@]}" --tls_legacy)
  cat "$KL_TMP/legacy.out"
  [ "$rc" = 0 ] && grep -qx 'relay TLS minimum version: TLSv1' "$KL_TMP/legacy.out" &&
    grep -qx 'relay TLS security level: 0' "$KL_TMP/legacy.out" &&
    grep -q 'ECDHE-RSA-AES128-SHA' "$KL_TMP/legacy.out"
}

check_tls13_only() {
  local rc; rc=$(run_check t13 "${CONN[@]}" --tls_protocols=-tlsv1.2)
  cat "$KL_TMP/t13.out"
  [ "$rc" = 0 ] && grep -qx 'connector TLS minimum version: TLSv1.3' "$KL_TMP/t13.out" &&
    grep -qx 'connector TLS <=1.2 ciphers: (none)' "$KL_TMP/t13.out"
}

check_pitfall_warned() {
  local rc; rc=$(run_check pitfall "${RELAY[@]}" "--tls_protocols=TLSv1.2 TLSv1.3")
  cat "$KL_TMP/pitfall.err"
  [ "$rc" = 0 ] && grep -qF "warning: argv[5]: tls_protocols: \`TLSv1.3\` has no +/- prefix" "$KL_TMP/pitfall.err"
}

# check_refused WANT ARGS...: exit 2, WANT on stderr, nothing on stdout.
check_refused() {
  local want=$1 rc; shift
  rc=$(run_check refused "$@")
  cat "$KL_TMP/refused.err"
  [ "$rc" = 2 ] && grep -qF -- "$want" "$KL_TMP/refused.err" && [ ! -s "$KL_TMP/refused.out" ]
}

kl_check relay_default_policy check_default relay "${RELAY[@]}"
kl_check connector_default_policy check_default connector "${CONN[@]}"
kl_check relay_legacy_policy check_legacy
kl_check connector_tls13_only check_tls13_only
kl_check pitfall_warned check_pitfall_warned
kl_check sslv3_refused check_refused "SSLv3 cannot be enabled: OpenSSL 3 has no SSLv3" \
  "${RELAY[@]}" --tls_protocols=+sslv3
kl_check empty_list_refused check_refused "enables no protocol" "${RELAY[@]}" "--tls_protocols=all -all"
cat "$KL_TMP/tls.key" "$KL_TMP/fe.crt" > "$KL_TMP/mismatch.pem"
kl_check mismatched_pem_refused check_refused "mismatch.pem: certificate does not match private key" \
  frontend --clean "--domain=http:*.test:$KL_SECRET" "--tls_endpoint=fe.test:$KL_TMP/mismatch.pem"
kl_finish
