# Knot DNS for the fleet tests (issue 24), sourced after lib.sh: an authoritative server on a
# loopback address with one zone, a TSIG key and an ACL that lets that key update and transfer
# the zone. Everything lives in $KL_TMP/knot; knotd runs under kl_bg (timeout, killed at exit).
# shellcheck disable=SC2034  # KNOT_* are read by the sourcing scripts
#
#   knot_start ADDR ZONE [KEY_BASE64]   starts knotd on ADDR with a free port; sets KNOT_ADDR,
#                                       KNOT_PORT, KNOT_ZONE, KNOT_KEY (hmac-sha256:fleet:BASE64),
#                                       KNOT_PID. Extra zone lines may be put in
#                                       $KL_TMP/knot/extra.zone before the call.
#   knot_stop / knot_restart            stops knotd (knotc stop), starts it again on the same port
#   knot_short NAME [TYPE]              kdig +short, sorted (no TSIG needed for queries)
#   knot_wait_short NAME TYPE WANT SECS polls knot_short until it prints exactly WANT
#                                       (newline-separated, sorted); 0 when it did in time
#   knot_update LINES...                knsupdate with the key, e.g. "update add x.ZONE 10 A ..."

KNOT_DIR=""
KNOT_ADDR=""
KNOT_PORT=""
KNOT_ZONE=""
KNOT_KEY=""
KNOT_PID=""

knot_require() {
  local tool
  for tool in knotd knotc kdig knsupdate; do
    command -v "$tool" >/dev/null || { echo "$KL_NAME: $tool is not installed (scripts/install-deps.sh installs knot and knot-dnsutils)" >&2; exit 2; }
  done
}

# A free TCP+UDP port on ADDR (the kernel picks; Knot binds both).
knot_free_port() {
  python3 - "$1" <<'PY'
import socket, sys
addr = sys.argv[1]
for _ in range(50):
    t = socket.socket(); t.bind((addr, 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind((addr, port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
PY
}

knot_write_config() {
  cat > "$KNOT_DIR/knot.conf" <<CONF
server:
    rundir: "$KNOT_DIR"
    listen: $KNOT_ADDR@$KNOT_PORT
log:
  - target: stderr
    any: info
database:
    storage: "$KNOT_DIR/db"
control:
    listen: "$KNOT_DIR/knot.sock"
key:
  - id: fleet
    algorithm: hmac-sha256
    secret: ${KNOT_KEY##*:}
acl:
  - id: fleet_update
    key: fleet
    action: [update, transfer]
template:
  - id: default
    storage: "$KNOT_DIR/zones"
    zonefile-sync: -1
zone:
  - domain: $KNOT_ZONE
    acl: fleet_update
CONF
}

knot_launch() {
  kl_bg knotd 900 knotd -c "$KNOT_DIR/knot.conf"
  KNOT_PID=$KL_BG_PID
  local i
  for i in $(seq 100); do
    if kdig @"$KNOT_ADDR" -p "$KNOT_PORT" +short +time=1 +retry=0 "$KNOT_ZONE" SOA 2>/dev/null | grep -q .; then
      return 0
    fi
    kill -0 "$KNOT_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$KL_NAME: knotd did not answer on $KNOT_ADDR:$KNOT_PORT" >&2
  cat "$KL_TMP/knotd.err" >&2 2>/dev/null
  return 1
}

knot_start() {
  knot_require
  KNOT_ADDR=$1
  KNOT_ZONE=$2
  KNOT_KEY="hmac-sha256:fleet:${3:-$(openssl rand -base64 32)}"
  KNOT_DIR="$KL_TMP/knot"
  mkdir -p "$KNOT_DIR/db" "$KNOT_DIR/zones"
  KNOT_PORT=$(knot_free_port "$KNOT_ADDR")
  [ -n "$KNOT_PORT" ] || { echo "$KL_NAME: no free port on $KNOT_ADDR" >&2; return 1; }
  {
    printf '$ORIGIN %s.\n$TTL 10\n' "$KNOT_ZONE"
    printf '@ SOA ns.%s. admin.%s. 1 60 60 600 10\n@ NS ns.%s.\nns A %s\n' \
      "$KNOT_ZONE" "$KNOT_ZONE" "$KNOT_ZONE" "$KNOT_ADDR"
    cat "$KNOT_DIR/extra.zone" 2>/dev/null || true
  } > "$KNOT_DIR/zones/$KNOT_ZONE.zone"
  knot_write_config
  knot_launch
}

knot_stop() {
  knotc -s "$KNOT_DIR/knot.sock" stop >/dev/null 2>&1 || kill -TERM "$KNOT_PID" 2>/dev/null
  local i
  for i in $(seq 100); do kill -0 "$KNOT_PID" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$KNOT_PID" 2>/dev/null
}

# The zone's updates live in its journal ($KNOT_DIR/db), so a restart keeps them.
knot_restart() { knot_launch; }

knot_short() {
  kdig @"$KNOT_ADDR" -p "$KNOT_PORT" +short +time=1 +retry=0 "$1" "${2:-A}" 2>/dev/null | sort
}

knot_wait_short() {
  local name=$1 type=$2 want=$3 secs=$4 got="" i
  want=$(printf '%s\n' "$want" | grep . | sort)
  for i in $(seq $(( secs * 10 ))); do
    got=$(knot_short "$name" "$type")
    [ "$got" = "$want" ] && return 0
    sleep 0.1
  done
  kl_log "knot_wait_short $name $type: want [$(echo $want)] got [$(echo $got)]"
  return 1
}

knot_update() {
  {
    printf 'server %s %s\nzone %s\n' "$KNOT_ADDR" "$KNOT_PORT" "$KNOT_ZONE"
    printf '%s\n' "$@"
    printf 'send\n'
  } | knsupdate -y "$KNOT_KEY"
}
