#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# Privilege separation of the kiteline binary (needs root; prints SKIP otherwise):
#  relay --runas=nobody: /proc/PID/status shows Uid/Gid/Groups of nobody, and it still serves
#    (a kiteline connector's folder kite, fetched byte-exact through it);
#  relay --chroot=JAIL --runas=nobody:daemon with a TLS endpoint: /proc/PID/root is JAIL, ids
#    dropped, a TLS (CONNECT preamble) tunnel comes up and serves;
#  its key process keeps the real root, the file poll sees two certificate changes inside the
#    jail and the new serial is served, a killed key process cannot be restarted in the jail
#    (logged);
#  connector --runas=nobody: ids dropped, kite live, serves;
#  refusals: unknown user, unknown group, missing chroot directory -> exit 1 with the reason.
# Usage: privsep_test.sh KITELINE_BINARY SHARED_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"

if [ "$(id -u)" -ne 0 ]; then
  kl_log "SKIP: --runas/--chroot need root"
  exit 0
fi
NOBODY_UID=$(id -u nobody)
OTHER_GID=$(getent group daemon | cut -d: -f3)  # differs from nobody's own group
NOBODY_GID=$(id -g nobody)

kl_make_certs || { echo "openssl failed"; exit 1; }
# The connector's folder must be readable by nobody once it has dropped root.
chmod 755 "$KL_TMP"
mkdir -p "$KL_TMP/site"
kl_make_file privsep.bin 200000 41414141414141414141414141414141
mv "$KL_TMP/www/privsep.bin" "$KL_TMP/site/privsep.bin"
chmod -R a+rX "$KL_TMP/site"
mkdir -p "$KL_TMP/jail"

# check_ids PID UID GID: real/effective/saved/fs ids and the group list in /proc/PID/status.
check_ids() {
  local pid=$1 uid=$2 gid=$3 st
  st=$(grep -E '^(Uid|Gid|Groups):' "/proc/$pid/status") || return 1
  echo "$st" | tr '\n' ' '
  grep -qE "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid$" <<<"$st" &&
  grep -qE "^Gid:[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid$" <<<"$st" &&
  grep -qE "^Groups:[[:space:]]+$gid[[:space:]]*$" <<<"$st"
}

check_root() {
  local root; root=$(readlink "/proc/$1/root")
  echo "root=$root"
  [ "$root" = "$2" ]
}

# start_conn NAME FE_PORT [ARGS...]: kiteline connector serving $KL_TMP/site as site.test.
start_conn() {
  local name=$1 port=$2; shift 2
  CONN_OUT="$KL_TMP/$name.out"
  kl_bg "$name" 300 "$KITELINE" --clean --nullui "--frontend=127.0.0.1:$port" \
    "--logfile=$KL_TMP/$name.log" "--kitesecret=$KL_SECRET" "$@" "$KL_TMP/site" site.test
  CONN_PID=$KL_BG_PID
  kl_wait_grep "$CONN_OUT" 'kite http:site.test live' 20 ||
    { tail -n 20 "$CONN_OUT" "$KL_TMP/$name.err" "$KL_TMP/$name.log"; return 1; }
}

check_refused() {
  local want=$1 rc; shift
  timeout 20 "$KITELINE" --clean --isfrontend --host=127.0.0.1 --ports=0 \
    "--domain=http:*.test:$KL_SECRET" "--logfile=$KL_TMP/refused.log" "$@" \
    >"$KL_TMP/refused.out" 2>"$KL_TMP/refused.err"
  rc=$?
  echo "rc=$rc stderr=$(head -c 300 "$KL_TMP/refused.err")"
  [ $rc -eq 1 ] && grep -qF -- "$want" "$KL_TMP/refused.err" &&
    ! grep -q 'relay ready' "$KL_TMP/refused.out"
}

# 1. relay --runas=nobody
kl_start_relay runas --runas=nobody || exit 1
kl_check relay_runas_ids check_ids "$RELAY_EXE_PID" "$NOBODY_UID" "$NOBODY_GID"
kl_check relay_runas_logged grep -F "privileges dropped: uid=$NOBODY_UID gid=$NOBODY_GID" "$RELAY_LOG"
start_conn conn-plain "$RELAY_PORT" && \
  kl_check relay_runas_serves check_get_sha "$RELAY_PORT" site.test /privsep.bin "$KL_TMP/site/privsep.bin"
kl_stop "$CONN_PID"
kl_stop "$RELAY_PID"

# 2. relay --chroot + --runas=nobody:daemon, TLS endpoint loaded before the chroot
kl_start_relay jail "--chroot=$KL_TMP/jail" --runas=nobody:daemon \
  "--tls_endpoint=fe.test:$KL_TMP/fe.pem" --tls_default=fe.test || exit 1
kl_check relay_chroot_root check_root "$RELAY_EXE_PID" "$KL_TMP/jail"
kl_check relay_chroot_ids check_ids "$RELAY_EXE_PID" "$NOBODY_UID" "$OTHER_GID"
start_conn conn-tls "$RELAY_PORT" --fe_certname=fe.test "--ca_certs=$KL_TMP/fe.crt" && \
  kl_check relay_chroot_tls_tunnel_serves check_get_sha "$RELAY_PORT" site.test /privsep.bin \
    "$KL_TMP/site/privsep.bin"

# 3. connector --runas=nobody (against the jailed relay)
kl_stop "$CONN_PID"
start_conn conn-runas "$RELAY_PORT" --fe_certname=fe.test "--ca_certs=$KL_TMP/fe.crt" \
  --runas=nobody && {
  CONN_EXE_PID=$(pgrep -P "$CONN_PID" | head -n 1)
  kl_check connector_runas_ids check_ids "$CONN_EXE_PID" "$NOBODY_UID" "$NOBODY_GID"
  kl_check connector_runas_serves check_get_sha "$RELAY_PORT" site.test /privsep.bin \
    "$KL_TMP/site/privsep.bin"
}
kl_stop "$CONN_PID"

# 3b. The key process of the jailed relay was started before --chroot/--runas: it keeps the
# real root (and root's ids), so a reload can read the key file; the file poll looks the file
# up through a directory fd opened before the chroot. A dead key process cannot be restarted
# inside the (empty) jail: the log says so.
KEY_PID=$(pgrep -P "$RELAY_EXE_PID" -f -- '--key-process' | head -n 1)
kl_check relay_chroot_key_process_outside check_root "$KEY_PID" "/"
# new_fe_pair SERIAL: a new P-256 pair replaces fe.pem (rename, as certificate tools do).
new_fe_pair() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -set_serial "$1" \
    -keyout "$KL_TMP/fe2.key" -out "$KL_TMP/fe2.crt" -subj "/CN=fe.test" \
    -addext "subjectAltName=DNS:fe.test" 2>/dev/null &&
  cat "$KL_TMP/fe2.key" "$KL_TMP/fe2.crt" > "$KL_TMP/fe.pem.new" && mv "$KL_TMP/fe.pem.new" "$KL_TMP/fe.pem"
}
# Two changes: the first poll after the chroot would reload once even if the poll could no
# longer see the file; the second change is only noticed by a poll that still can.
new_fe_pair 0x76
kl_check relay_chroot_reload_polled kl_wait_grep "$RELAY_LOG" \
  'certificate reload for fe.test: serial 0x76 installed' 15
new_fe_pair 0x77
kl_check relay_chroot_reload_polled_again kl_wait_grep "$RELAY_LOG" \
  'certificate reload for fe.test: serial 0x77 installed' 15
served_serial() {
  timeout 10 openssl s_client -connect "127.0.0.1:$RELAY_PORT" -servername fe.test </dev/null \
    2>/dev/null | openssl x509 -noout -serial
}
check_serial() { local got; got=$(served_serial); echo "$got"; [ "$got" = "serial=$1" ]; }
kl_check relay_chroot_reload_serves_new check_serial 77
kill -9 "$KEY_PID"
served_serial >/dev/null 2>&1
kl_check relay_chroot_key_restart_fails_logged kl_wait_grep "$RELAY_LOG" \
  "key process pid=$KEY_PID was killed by signal 9; restarted as pid=[0-9]+ but it does not answer" 10
kl_stop "$RELAY_PID"

# 4. refusals
kl_check refuse_unknown_user check_refused "--runas: no user \`no_such_user_kl\`" \
  --runas=no_such_user_kl
kl_check refuse_unknown_group check_refused "--runas: no group \`no_such_group_kl\`" \
  --runas=nobody:no_such_group_kl
kl_check refuse_missing_chroot check_refused "--chroot=$KL_TMP/none: chroot failed: No such file" \
  "--chroot=$KL_TMP/none"

kl_finish
