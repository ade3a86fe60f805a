# shellcheck shell=bash
# shellcheck disable=SC2034  # CHAIN_* are read by run.sh and profile.sh
# The chains of bench/run.sh: `chain_start NAME` starts one (on free loopback
# ports picked at that moment) and waits until it serves 64k.bin byte-exact;
# `chain_stop` stops it by PID.  Every chain ends at the same nginx origin.
# Sourced, not run.  Expects from the caller:
#
#   WORK         private temp dir (certs in WORK/certs, ssh keys in WORK/ssh)
#   ORIGIN_PORT  nginx on 127.0.0.1     PY  python3      TOOL  (python3 benchtool.py)
#   CHAIN_TTL    seconds a chain process may live (its `timeout`)
#   KITELINE     the kiteline binary (for kiteline, kiteline-plain)
#
# After chain_start:  CHAIN_PORT  visitor port on 127.0.0.1
#                     CHAIN_PIDS  PIDs started (relay side first), each a
#                                 `timeout` wrapper; their trees are the chain
#                     CHAIN_DIR   the chain's configs and logs
#                     CHAIN_INFO  one line describing the path
# chain_start returns 0 when the chain serves, 3 when it is skipped (tool
# missing), anything else when it failed; CHAIN_ERR then says why.

SITE=bench.test
SECRET=bench-s3cret
CHAIN_PORT=
CHAIN_PIDS=()
CHAIN_DIR=
CHAIN_ERR=
CHAIN_INFO=
CHAIN_SERIAL=${CHAIN_SERIAL:-0}

# free_ports N: N free TCP ports on 127.0.0.1, from the kernel.
free_ports() { "${TOOL[@]}" ports "$1"; }

# spawn LOG CMD...: CMD in the background under `timeout CHAIN_TTL`.
spawn() {
  local log=$1; shift
  timeout -k 5 "$CHAIN_TTL" "$@" </dev/null >>"$log" 2>&1 &
  CHAIN_PIDS+=($!)
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

chain_alive() {
  local p
  for p in "${CHAIN_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
  return 0
}

# wait_port PORT SECONDS: something accepts on 127.0.0.1:PORT.
wait_port() {
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt "$end" ]; do
    port_open "$1" && return 0
    chain_alive || return 1
    sleep 0.1
  done
  return 1
}

# wait_line FILE REGEX SECONDS: FILE has a line matching the extended REGEX.
wait_line() {
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt "$end" ]; do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    chain_alive || return 1
    sleep 0.1
  done
  return 1
}

# site_ok PORT: 64k.bin arrives intact through the chain.
site_ok() {
  curl -s --max-time 5 -H "Host: $SITE" "http://127.0.0.1:$1/64k.bin" |
    cmp -s - "$WORK/origin/www/64k.bin"
}

wait_site() {  # wait_site PORT SECONDS
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt "$end" ]; do
    site_ok "$1" && return 0
    chain_alive || { CHAIN_ERR="a chain process exited during start-up"; return 1; }
    sleep 0.25
  done
  CHAIN_ERR="64k.bin not served byte-exact through port $1 within $2 s"
  return 1
}

chain_start() {
  CHAIN_PIDS=()
  CHAIN_ERR=
  CHAIN_INFO=
  CHAIN_PORT=
  CHAIN_DIR=$WORK/chains/$1.$((++CHAIN_SERIAL))
  mkdir -p "$CHAIN_DIR"
  case "$1" in
    direct)          start_direct ;;
    kiteline)        start_kiteline tls ;;
    kiteline-plain)  start_kiteline plain ;;
    pagekite)        start_pagekite tls ;;
    pagekite-plain)  start_pagekite plain ;;
    haproxy-stunnel) start_haproxy_stunnel ;;
    ssh-reverse)     start_ssh_reverse ;;
    floor-tls)       start_floor tls ;;
    floor-plain)     start_floor plain ;;
    floor-ssl)       start_floor ssl ;;
    *) CHAIN_ERR="unknown chain $1"; return 2 ;;
  esac
}

chain_stop() {
  [ ${#CHAIN_PIDS[@]} -gt 0 ] || return 0
  local all i p _
  # Every process of the chain as "pid:start", collected before the roots
  # go, so that leftovers are killed without hitting a recycled PID.
  # shellcheck disable=SC2207
  all=($("${TOOL[@]}" pids "${CHAIN_PIDS[@]}"))
  for ((i = ${#CHAIN_PIDS[@]} - 1; i >= 0; i--)); do   # connector side first
    kill -TERM "${CHAIN_PIDS[$i]}" 2>/dev/null
  done
  for _ in $(seq 1 25); do
    sleep 0.2
    [ "$("${TOOL[@]}" alive "${all[@]}")" = 0 ] && break
  done
  "${TOOL[@]}" kill "${all[@]}"
  for p in "${CHAIN_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  CHAIN_PIDS=()
}

# chain_error_lines: error or crash lines in the chain's logs so far (kiteline's
# "[error]"/"[critical]", pagekite.py's "Crashed"/tracebacks).
chain_error_lines() {
  cat "$CHAIN_DIR"/*.log 2>/dev/null |
    grep -aE '\[(error|critical)\]|^Crashed|Traceback|BugFoundError' || true
}

# ------------------------------------------------------------------ direct

start_direct() {
  CHAIN_PORT=$ORIGIN_PORT
  CHAIN_INFO="visitor -> nginx 127.0.0.1:$ORIGIN_PORT"
  wait_site "$CHAIN_PORT" 5
}

# ---------------------------------------------------------------- kiteline
# kiteline relay on --ports=0 (its "kiteline relay ready ports=P" line gives
# the port), TLS endpoint fe.test; the connector verifies it with fe.crt.

start_kiteline() {
  local mode=$1 d=$CHAIN_DIR c=$WORK/certs
  if [ -z "${KITELINE:-}" ] || [ ! -x "$KITELINE" ] || [ -d "$KITELINE" ]; then
    CHAIN_ERR="skipped: no kiteline binary (KITELINE=${KITELINE:-})"; return 3
  fi
  # shellcheck disable=SC2054  # commas inside option values
  local fe_args=(frontend --clean --isfrontend --host=127.0.0.1 --ports=0
                 --protos=http,https,raw --rawports=virtual
                 "--domain=http,https,raw:*.test:$SECRET" "--logfile=$d/relay.log")
  local be_tls=()
  if [ "$mode" = tls ]; then
    fe_args+=("--tls_endpoint=fe.test:$c/fe.pem" --tls_default=fe.test)
    be_tls=(--fe_certname=fe.test "--ca_certs=$c/fe.crt")
  fi
  # shellcheck disable=SC2206
  fe_args+=(${BENCH_KL_FE_EXTRA:-})
  echo "$KITELINE ${fe_args[*]}" > "$d/relay.cmd"
  spawn "$d/relay.out" "$KITELINE" "${fe_args[@]}"
  wait_line "$d/relay.out" '^kiteline relay ready ports=[0-9]+' 20 ||
    { CHAIN_ERR="relay not ready (see $d/relay.out, relay.log)"; return 1; }
  CHAIN_PORT=$(sed -nE 's/^kiteline relay ready ports=([0-9]+).*/\1/p' "$d/relay.out" | head -n 1)
  # shellcheck disable=SC2206
  local be_args=(backend --clean "--frontend=127.0.0.1:$CHAIN_PORT"
                 "--service_on=http:$SITE:127.0.0.1:$ORIGIN_PORT:$SECRET"
                 "${be_tls[@]}" "--logfile=$d/connector.log" ${BENCH_KL_BE_EXTRA:-})
  # rss_10000 keeps 10 000 streams open: above the connector's default --max_conns (4096).
  # Builds from before the option (bench/ab.sh's baseline) have no such cap.
  if "$KITELINE" --help 2>/dev/null | grep -q -- '--max_conns'; then
    be_args+=(--max_conns=20000)
  fi
  echo "$KITELINE ${be_args[*]}" > "$d/connector.cmd"
  spawn "$d/connector.out" "$KITELINE" "${be_args[@]}"
  CHAIN_INFO="visitor -> kiteline relay :$CHAIN_PORT -> tunnel ($mode) -> kiteline connector -> nginx"
  wait_site "$CHAIN_PORT" 20
}

# --------------------------------------------------------------- pagekite
# Debian's pagekite.py at both ends, as shared/interop/pk-frontend.sh and
# pk-backend.sh start it (same flags), with the same fe.test certificate.

start_pagekite() {
  local mode=$1 d=$CHAIN_DIR c=$WORK/certs pk
  pk=${PAGEKITE:-$(command -v pagekite || echo /usr/bin/pagekite)}
  [ -x "$pk" ] || { CHAIN_ERR="skipped: pagekite not installed"; return 3; }
  CHAIN_PORT=$(free_ports 1)
  # shellcheck disable=SC2054
  local fe_args=(--clean --nullui --isfrontend --host=127.0.0.1 "--ports=$CHAIN_PORT"
                 --protos=http,https,raw --rawports=virtual
                 "--domain=http,https,raw:*.test:$SECRET" "--logfile=$d/frontend.log")
  local be_args=(--clean --nullui "--frontend=127.0.0.1:$CHAIN_PORT"
                 "--service_on=http:$SITE:127.0.0.1:$ORIGIN_PORT:$SECRET"
                 "--logfile=$d/backend.log")
  if [ "$mode" = tls ]; then
    fe_args+=("--tls_endpoint=fe.test:$c/fe.pem" --tls_default=fe.test)
    be_args+=(--fe_certname=fe.test "--ca_certs=$c/fe.crt")
  fi
  CHAIN_INFO="visitor -> pagekite.py --isfrontend :$CHAIN_PORT -> tunnel ($mode) -> pagekite.py back-end -> nginx"
  spawn "$d/frontend.out" "$pk" "${fe_args[@]}"
  wait_port "$CHAIN_PORT" 20 || { CHAIN_ERR="pagekite front-end did not listen on $CHAIN_PORT"; return 1; }
  spawn "$d/backend.out" "$pk" "${be_args[@]}"
  wait_site "$CHAIN_PORT" 40
}

# -------------------------------------------------------- haproxy-stunnel
# visitor -> haproxy (HTTP mode, Host routing) -> TLS (verified) -> stunnel
# (server mode) -> nginx.  Two processes in the path, like relay + connector.

start_haproxy_stunnel() {
  local d=$CHAIN_DIR c=$WORK/certs maxconn p_stunnel
  command -v haproxy >/dev/null && command -v stunnel >/dev/null ||
    { CHAIN_ERR="skipped: haproxy or stunnel not installed"; return 3; }
  read -r CHAIN_PORT p_stunnel < <(free_ports 2)
  maxconn=$(ulimit -n)   # two descriptors per visitor
  [ "$maxconn" = unlimited ] && maxconn=40200
  maxconn=$(((maxconn - 200) / 2))
  [ "$maxconn" -gt 20000 ] && maxconn=20000
  CHAIN_INFO="visitor -> haproxy :$CHAIN_PORT (http mode, maxconn $maxconn) -> TLS -> stunnel :$p_stunnel -> nginx"
  cat > "$d/stunnel.conf" <<EOF
; connector side: ends the TLS from haproxy, plain TCP to the origin
foreground = yes
syslog = no
pid =
[bench]
accept = 127.0.0.1:$p_stunnel
connect = 127.0.0.1:$ORIGIN_PORT
cert = $c/connector.pem
EOF
  cat > "$d/haproxy.cfg" <<EOF
# relay side: visitors in, TLS toward the connector (stunnel)
global
    maxconn $maxconn
    ssl-server-verify required
defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
frontend visitors
    bind 127.0.0.1:$CHAIN_PORT
    use_backend bench if { req.hdr(host),field(1,:) -i $SITE }
backend bench
    server connector 127.0.0.1:$p_stunnel ssl verify required ca-file $c/connector.crt verifyhost connector.bench.test
EOF
  haproxy -c -q -f "$d/haproxy.cfg" >>"$d/haproxy.log" 2>&1 ||
    { CHAIN_ERR="haproxy -c failed (see $d/haproxy.log)"; return 1; }
  spawn "$d/haproxy.log" haproxy -db -f "$d/haproxy.cfg"
  spawn "$d/stunnel.log" stunnel "$d/stunnel.conf"
  wait_port "$p_stunnel" 10 || { CHAIN_ERR="stunnel did not listen"; return 1; }
  wait_port "$CHAIN_PORT" 10 || { CHAIN_ERR="haproxy did not listen"; return 1; }
  wait_site "$CHAIN_PORT" 10
}

# ------------------------------------------------------------ ssh-reverse
# A private sshd on loopback (relay side) and `ssh -N -R` (connector side);
# visitors use the port sshd listens on for the remote forward.

start_ssh_reverse() {
  local d=$CHAIN_DIR s=$WORK/ssh sshd p_sshd user
  sshd=$(command -v sshd || echo /usr/sbin/sshd)
  [ -x "$sshd" ] && command -v ssh >/dev/null || { CHAIN_ERR="skipped: openssh not installed"; return 3; }
  user=$(id -un)
  read -r p_sshd CHAIN_PORT < <(free_ports 2)
  printf 'from="127.0.0.1",restrict,port-forwarding,permitlisten="127.0.0.1:%s" %s\n' \
    "$CHAIN_PORT" "$(cat "$s/client_ed25519.pub")" > "$s/authorized_keys"
  chmod 0600 "$s/authorized_keys"
  printf '[127.0.0.1]:%s %s\n' "$p_sshd" "$(cut -d' ' -f1,2 "$s/host_ed25519.pub")" > "$s/known_hosts"
  cat > "$d/sshd_config" <<EOF
# relay side: a private sshd, loopback only, key login only
ListenAddress 127.0.0.1:$p_sshd
HostKey $s/host_ed25519
PidFile none
AuthorizedKeysFile $s/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
AllowUsers $user@127.0.0.1
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding remote
GatewayPorts no
PermitListen 127.0.0.1:$CHAIN_PORT
AllowAgentForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
PermitTTY no
PermitTunnel no
PrintMotd no
LogLevel INFO
EOF
  # The privilege-separation directory that Debian's service would create.
  if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then mkdir -m 0755 /run/sshd; fi
  "$sshd" -t -f "$d/sshd_config" >>"$d/sshd.log" 2>&1 ||
    { CHAIN_ERR="sshd -t failed (see $d/sshd.log)"; return 1; }
  spawn "$d/sshd.log" "$sshd" -D -e -f "$d/sshd_config"
  wait_port "$p_sshd" 10 || { CHAIN_ERR="sshd did not listen on $p_sshd"; return 1; }
  local opts=(-F /dev/null -p "$p_sshd" -i "$s/client_ed25519" -o IdentitiesOnly=yes
              -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$s/known_hosts"
              -o ExitOnForwardFailure=yes -o ServerAliveInterval=30)
  local cipher
  cipher=$(timeout 10 ssh -v "${opts[@]}" "$user@127.0.0.1" true 2>&1 |
           sed -n 's/.*kex: server->client cipher: \(.*\)/\1/p' | head -n 1)
  CHAIN_INFO="visitor -> sshd :$CHAIN_PORT (remote forward) <- ssh -N -R -> nginx; cipher: ${cipher:-unknown}"
  spawn "$d/ssh.log" ssh -N "${opts[@]}" -R "127.0.0.1:$CHAIN_PORT:127.0.0.1:$ORIGIN_PORT" "$user@127.0.0.1"
  wait_site "$CHAIN_PORT" 15
}

# ------------------------------------------------------------------ floor
# The yardstick (bench/floor_relay.cpp): the cheapest two-hop relay with a
# user-space AES-128-GCM tunnel, one blocking thread per direction, no
# handshake, no multiplexing.  Connector side listens for the tunnel.

start_floor() {
  local mode=$1 d=$CHAIN_DIR p_tunnel
  local floor=${KITELINE_FLOOR:-}
  if [ -z "$floor" ] || [ ! -x "$floor" ]; then
    CHAIN_ERR="skipped: no kiteline_floor binary (KITELINE_FLOOR=${floor})"; return 3
  fi
  spawn "$d/connector.out" "$floor" connector "$mode" "$ORIGIN_PORT"
  wait_line "$d/connector.out" '^floor ready port=[0-9]+' 10 ||
    { CHAIN_ERR="floor connector not ready (see $d/connector.out)"; return 1; }
  p_tunnel=$(sed -nE 's/^floor ready port=([0-9]+).*/\1/p' "$d/connector.out" | head -n 1)
  spawn "$d/relay.out" "$floor" relay "$mode" "$p_tunnel"
  CHAIN_PIDS=("${CHAIN_PIDS[1]}" "${CHAIN_PIDS[0]}")  # relay side first, as for the other chains
  wait_line "$d/relay.out" '^floor ready port=[0-9]+' 10 ||
    { CHAIN_ERR="floor relay not ready (see $d/relay.out)"; return 1; }
  CHAIN_PORT=$(sed -nE 's/^floor ready port=([0-9]+).*/\1/p' "$d/relay.out" | head -n 1)
  local what
  case $mode in
    tls)   what="AES-128-GCM 16 KiB records, no handshake" ;;
    ssl)   what="TLS 1.3 (AES-128-GCM) through libssl, 256 KiB batches" ;;
    plain) what="no encryption" ;;
  esac
  CHAIN_INFO="visitor -> floor relay :$CHAIN_PORT -> tunnel ($mode: $what) -> floor connector :$p_tunnel -> nginx"
  wait_site "$CHAIN_PORT" 10
}

# ------------------------------------------------------------ credentials

# make_credentials DIR_CERTS DIR_SSH: fe.test (tunnel relays), the stunnel
# connector certificate, ssh host and client keys.
make_credentials() {
  local c=$1 s=$2 name
  mkdir -p "$c" "$s" && chmod 0700 "$c" "$s" || return 1
  for name in fe.test connector.bench.test; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$c/${name%%.*}.key" \
      -out "$c/${name%%.*}.crt" -subj "/CN=$name" \
      -addext "subjectAltName=DNS:$name,IP:127.0.0.1" 2>/dev/null || return 1
    cat "$c/${name%%.*}.key" "$c/${name%%.*}.crt" > "$c/${name%%.*}.pem"
  done
  chmod 0600 "$c"/*.key "$c"/*.pem
  ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$s/host_ed25519" </dev/null >/dev/null &&
    ssh-keygen -q -t ed25519 -N '' -C bench-connector -f "$s/client_ed25519" </dev/null >/dev/null
}
