#!/usr/bin/env bash
# shellcheck disable=SC2317  # check_* functions are called indirectly through kl_check
# DNS-delegated authentication (--authdomain, spec 8.2) across implementations, with a real
# PowerDNS whose pipe backend (tests/support/pagekite_authority.py) computes pagekite.py's
# answers from a secrets table:
#  1. Debian's pagekite.py CONNECTOR -> kiteline RELAY --authdomain: a good secret gets the kite
#     (OK + X-PageKite-Quota, which pagekite.py logs) and serves a GET; a kite with quota 0 is
#     refused with reason quota.
#  2. kiteline CONNECTOR -> pagekite.py RELAY --authdomain: same kite, same authority.
# pagekite.py resolves with the system resolver (gethostbyname_ex: /etc/resolv.conf, port 53),
# so the whole test runs in its own user, mount and network namespaces (`unshare -rmn`): there
# PowerDNS listens on 127.0.0.1:53 and a bind-mounted /etc/resolv.conf names it. Nothing of the
# host changes. Exit 77 (skipped) without pdns_server or unprivileged namespaces.
# Usage: authdomain_test.sh KITELINE_BINARY SHARED_DIR
set -u
if [ -z "${KL_IN_NS:-}" ]; then
  command -v pdns_server >/dev/null || { echo "pdns_server not installed: skipped"; exit 77; }
  unshare -rmn true 2>/dev/null || { echo "no unprivileged namespaces: skipped"; exit 77; }
  KL_IN_NS=1 exec unshare -rmn bash "$0" "$@"
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kl_init "$@"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AUTHORITY="$HERE/../support/pagekite_authority.py"

ip link set lo up || { echo "ip link set lo up failed"; exit 1; }
echo 'nameserver 127.0.0.1' > "$KL_TMP/resolv.conf"
mount --bind "$KL_TMP/resolv.conf" /etc/resolv.conf || { echo "bind mount failed"; exit 1; }

kl_make_certs || { echo "openssl failed"; exit 1; }
kl_make_file 1k.bin 1024 41414141414141414141414141414141
kl_start_origin || exit 1

mkdir -p "$KL_TMP/pdns" && : > "$KL_TMP/pdns/pdns.conf"
kl_bg pdns 880 pdns_server "--config-dir=$KL_TMP/pdns" --launch=pipe \
  "--pipe-command=$AUTHORITY auth.test 4" --pipe-timeout=10000 --local-address=127.0.0.1 \
  --local-port=53 "--socket-dir=$KL_TMP/pdns" --guardian=no --daemon=no --disable-syslog \
  --write-pid=no --cache-ttl=0 --query-cache-ttl=0 --negquery-cache-ttl=0 \
  --zone-cache-refresh-interval=0 --security-poll-suffix= --loglevel=4
kl_wait_grep "$KL_TMP/pdns.err" 'Backend launched with banner' 20 ||
  kl_wait_grep "$KL_TMP/pdns.out" 'Backend launched with banner' 5 ||
  { echo "pdns did not start"; cat "$KL_TMP/pdns.err"; exit 1; }
kl_log "PowerDNS on 127.0.0.1:53 (in the test's namespace)"


# ---- 1. pagekite.py connector -> kiteline relay --authdomain (the system resolver: resolv.conf)
kl_start_relay relay --authdomain=auth.test --authdns_timeout=3 || exit 1
kl_pk_conn pk-good "$RELAY_PORT" good.kites.example goodsecret
kl_check "pagekite.py: good secret -> kite up on kiteline" kl_check_kite_up good.kites.example
kl_check "kiteline logs the authority's grant" kl_check_authority_line good.kites.example "quota 1024 kB"
kl_check "pagekite.py received X-PageKite-Quota: 1024" kl_check_pk_quota "$PK_LOGFILE" 1024
kl_check "GET through kiteline to pagekite.py's kite" check_get_sha "$RELAY_PORT" good.kites.example /f/1k.bin "$KL_TMP/www/1k.bin"
kl_pk_conn pk-zero "$RELAY_PORT" zero.kites.example zerosecret
kl_check "pagekite.py: quota 0 -> refused (quota)" kl_check_refused zero.kites.example quota
kl_pk_conn pk-wrong "$RELAY_PORT" extra.kites.example wrongsecret
kl_check "pagekite.py: wrong secret -> refused (unauthorized)" kl_check_refused extra.kites.example unauthorized

# ---- 2. kiteline connector -> pagekite.py relay --authdomain
kl_pk_relay_with_conn "--authdomain=auth.test" good.kites.example goodsecret || exit 1
kl_check "kiteline connector: kite live on pagekite.py --authdomain" kl_check_conn_live good.kites.example
kl_check "kiteline connector shows the relay's quota" kl_check_conn_quota 1024
kl_check "GET through pagekite.py to kiteline's kite" check_get_sha "$PKR_PORT" good.kites.example /f/1k.bin "$KL_TMP/www/1k.bin"

kl_finish
