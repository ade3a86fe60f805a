# Shared helpers for the kiteline interop tests (sourced by tests/interop/relay_*_test.sh).
# shellcheck disable=SC2034  # ORIGIN_*, TAP_PORT, PK_PID ... are read by the sourcing scripts
# Usage in a test: source "$(dirname "$0")/lib.sh"; kl_init "$@"; ...; kl_finish
# Everything binds/connects to 127.0.0.1 with ephemeral ports; every process runs under
# `timeout` and is killed by PID in the EXIT trap; every wait polls with a deadline.

KL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KL_PY="$KL_HERE/interop.py"
KL_SECRET=s3cret
KL_PIDS=()
KL_PASS=0
KL_FAIL=0
KL_FAILED=()
KL_START=$(date +%s)

kl_log() { printf '[%s +%3ss] %s\n' "${KL_NAME:-interop}" "$(( $(date +%s) - KL_START ))" "$*"; }

kl_cleanup() {
  local pid i
  for (( i=${#KL_PIDS[@]}-1; i>=0; i-- )); do
    pid=${KL_PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${KL_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  KL_PIDS=()
  if [ -n "${KL_TMP:-}" ] && [ -d "$KL_TMP" ]; then
    if [ "$KL_FAIL" -ne 0 ] && [ -n "${KL_KEEP_ON_FAIL:-}" ]; then
      echo "kept $KL_TMP"
    else
      rm -rf "$KL_TMP"
    fi
  fi
}

# kl_init KITELINE SHARED: checks the tools, makes the temp dir, installs the trap.
kl_init() {
  KL_NAME=$(basename "$0" .sh)
  if [ $# -lt 2 ]; then echo "usage: $0 KITELINE_BINARY SHARED_DIR" >&2; exit 2; fi
  KITELINE=$(readlink -f "$1")
  SHARED=$(readlink -f "$2")
  [ -x "$KITELINE" ] || { echo "$KL_NAME: no kiteline binary at $1" >&2; exit 2; }
  [ -x "$SHARED/interop/pk-backend.sh" ] || { echo "$KL_NAME: no $2/interop/pk-backend.sh" >&2; exit 2; }
  local tool
  for tool in pagekite python3 curl openssl timeout sha256sum; do
    command -v "$tool" >/dev/null || { echo "$KL_NAME: $tool is not installed" >&2; exit 2; }
  done
  KL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kl-interop.XXXXXX")
  trap kl_cleanup EXIT
  trap 'exit 130' INT TERM
  export PK_STATE_DIR="$KL_TMP"
  mkdir -p "$KL_TMP/www"
}

# kl_bg NAME SECONDS CMD...: runs CMD under timeout in the background (stdout/stderr to
# $KL_TMP/NAME.out/.err); sets KL_BG_PID.
kl_bg() {
  local name=$1 secs=$2; shift 2
  timeout -k 5 "$secs" "$@" >"$KL_TMP/$name.out" 2>"$KL_TMP/$name.err" &
  KL_BG_PID=$!
  KL_PIDS+=("$KL_BG_PID")
}

# kl_stop PID: stops one process started by kl_bg, bounded.
kl_stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# kl_wait_grep FILE REGEX SECONDS [COUNT]: waits until FILE has COUNT (default 1) lines
# matching the extended REGEX.
kl_wait_grep() {
  local file=$1 re=$2 secs=$3 count=${4:-1} n
  local deadline=$(( $(date +%s%N) + secs * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$deadline" ]; do
    n=$(grep -cE -- "$re" "$file" 2>/dev/null)
    [ "${n:-0}" -ge "$count" ] && return 0
    sleep 0.1
  done
  return 1
}

# kl_check NAME CMD...: runs CMD, records pass/fail; prints CMD's output on failure.
kl_check() {
  local name=$1; shift
  local out rc t0 t1
  t0=$(date +%s%N)
  out=$("$@" 2>&1); rc=$?
  t1=$(date +%s%N)
  local ms=$(( (t1 - t0) / 1000000 ))
  if [ $rc -eq 0 ]; then
    KL_PASS=$((KL_PASS + 1))
    kl_log "PASS $name (${ms} ms)${out:+: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')}"
  else
    KL_FAIL=$((KL_FAIL + 1))
    KL_FAILED+=("$name")
    kl_log "FAIL $name (${ms} ms, rc=$rc)"
    printf '%s\n' "$out" | tail -n 40 | sed 's/^/    | /'
  fi
  return $rc
}

# kl_finish: prints the summary and exits 0 only if every check passed.
kl_finish() {
  kl_log "summary: $KL_PASS passed, $KL_FAIL failed$([ $KL_FAIL -gt 0 ] && printf ' (%s)' "${KL_FAILED[*]}")"
  [ "$KL_FAIL" -eq 0 ] && exit 0
  exit 1
}

# kl_make_file NAME BYTES KEYHEX: deterministic pseudo-random file in $KL_TMP/www.
kl_make_file() {
  openssl enc -aes-128-ctr -nosalt -K "$3" -iv 00000000000000000000000000000000 \
    -in /dev/zero 2>/dev/null | head -c "$2" > "$KL_TMP/www/$1"
}

kl_sha() { sha256sum "$1" | cut -d' ' -f1; }

# kl_make_certs: fe.test (relay tunnel endpoint) and tls.test (the TLS origin), self-signed.
kl_make_certs() {
  local name
  for name in fe tls; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$KL_TMP/$name.key" \
      -out "$KL_TMP/$name.crt" -subj "/CN=$name.test" \
      -addext "subjectAltName=DNS:$name.test" 2>/dev/null || return 1
    cat "$KL_TMP/$name.key" "$KL_TMP/$name.crt" > "$KL_TMP/$name.pem"
  done
}

# kl_start_origin: HTTP/raw/TLS origins; sets ORIGIN_HTTP ORIGIN_RAW ORIGIN_TLS.
kl_start_origin() {
  kl_bg origin 900 python3 "$KL_PY" origin --docroot "$KL_TMP/www" --tls-pem "$KL_TMP/tls.pem" \
    --portfile "$KL_TMP/origin.ports" --duration 880
  kl_wait_grep "$KL_TMP/origin.ports" '^http=' 20 || { cat "$KL_TMP/origin.err"; return 1; }
  local line; line=$(cat "$KL_TMP/origin.ports")
  ORIGIN_HTTP=$(sed -E 's/.*http=([0-9]+).*/\1/' <<<"$line")
  ORIGIN_RAW=$(sed -E 's/.*raw=([0-9]+).*/\1/' <<<"$line")
  ORIGIN_TLS=$(sed -E 's/.*tls=([0-9]+).*/\1/' <<<"$line")
}

# kl_start_relay NAME [EXTRA ARGS...]: the kiteline relay; sets RELAY_PORT, RELAY_PID (the
# timeout wrapper), RELAY_EXE_PID (kiteline itself), RELAY_LOG.
kl_start_relay() {
  local name=$1; shift
  RELAY_LOG="$KL_TMP/$name.log"
  kl_bg "$name" 900 "$KITELINE" --clean --isfrontend --host=127.0.0.1 --ports=0 \
    --protos=http,https,raw --rawports=virtual "--domain=http,https,raw:*.test:$KL_SECRET" \
    "--logfile=$RELAY_LOG" "$@"
  RELAY_PID=$KL_BG_PID
  if ! kl_wait_grep "$KL_TMP/$name.out" '^kiteline relay ready ports=[0-9]+' 20; then
    echo "relay did not start:"; cat "$KL_TMP/$name.out" "$KL_TMP/$name.err"; return 1
  fi
  RELAY_PORT=$(sed -nE 's/^kiteline relay ready ports=([0-9]+).*/\1/p' "$KL_TMP/$name.out")
  RELAY_EXE_PID=$(pgrep -P "$RELAY_PID" | head -n 1)
  kl_log "relay $name up on 127.0.0.1:$RELAY_PORT (pid $RELAY_EXE_PID)"
}

# kl_start_tap NAME TARGETPORT: a recording TCP tap in front of TARGETPORT; sets TAP_PORT, TAP_DIR.
kl_start_tap() {
  TAP_DIR="$KL_TMP/$1"
  mkdir -p "$TAP_DIR"
  kl_bg "$1" 900 python3 "$KL_PY" tap --target "$2" --dir "$TAP_DIR" \
    --portfile "$TAP_DIR/port" --duration 880
  kl_wait_grep "$TAP_DIR/port" '^tap=' 20 || { cat "$KL_TMP/$1.err"; return 1; }
  TAP_PORT=$(sed -E 's/^tap=([0-9]+).*/\1/' "$TAP_DIR/port")
}

# kl_start_pk NAME FE_PORT KITES ORIGINPORTS MODE(plain|tls) [EXTRA pagekite flags...]:
# Debian's pagekite.py connector via shared/interop/pk-backend.sh; sets PK_PID, PK_LOGFILE.
kl_start_pk() {
  local name=$1 port=$2 kites=$3 ports=$4 mode=$5; shift 5
  PK_LOGFILE="$KL_TMP/$name.log"
  : > "$PK_LOGFILE"
  PK_TIMEOUT=850 PK_LOG="$PK_LOGFILE" PK_EXTRA="$*" \
    kl_bg "$name" 880 bash "$SHARED/interop/pk-backend.sh" "127.0.0.1:$port" "$kites" "$ports" \
    "$KL_SECRET" "$mode"
  PK_PID=$KL_BG_PID
}

# kl_pk_log_clean LOGFILE: fails (printing the lines) if pagekite.py logged corruption, a
# traceback or an error.
kl_pk_log_clean() {
  local bad
  bad=$(grep -inE 'corrupt|traceback|exception|error|err=|dead=|BugFound' "$1")
  if [ -n "$bad" ]; then
    echo "pagekite.py log $1 has problem lines:"; printf '%s\n' "$bad" | head -n 40
    return 1
  fi
  echo "no corrupt/error/traceback lines in $(wc -l < "$1") log lines"
}

# --- generic checks -------------------------------------------------------------------

# check_get_sha PORT HOST PATH FILE: GET through the relay, body's SHA-256 equals FILE's.
check_get_sha() {
  local port=$1 host=$2 path=$3 file=$4 got want info
  info=$(curl -sS --max-time 120 -H "Host: $host" -o "$KL_TMP/get.body" \
    -w '%{http_code} %{size_download} %{speed_download}' "http://127.0.0.1:$port$path") || return 1
  got=$(kl_sha "$KL_TMP/get.body"); want=$(kl_sha "$file")
  rm -f "$KL_TMP/get.body"
  read -r code size speed <<<"$info"
  echo "status=$code bytes=$size sha256=${got:0:16}... ($(awk -v s="$speed" 'BEGIN{printf "%.1f MB/s", s/1e6}'))"
  [ "$code" = 200 ] && [ "$got" = "$want" ]
}

# check_post_echo PORT HOST FILE: POST FILE to /echo, the echoed body's SHA-256 equals FILE's.
check_post_echo() {
  local port=$1 host=$2 file=$3 code got want
  code=$(curl -sS --max-time 120 -H "Host: $host" -H 'Expect:' --data-binary "@$file" \
    -H 'Content-Type: application/octet-stream' -o "$KL_TMP/post.body" -w '%{http_code}' \
    "http://127.0.0.1:$port/echo") || return 1
  got=$(kl_sha "$KL_TMP/post.body"); want=$(kl_sha "$file")
  echo "status=$code echoed=$(stat -c %s "$KL_TMP/post.body") bytes sha256=${got:0:16}... want ${want:0:16}..."
  rm -f "$KL_TMP/post.body"
  [ "$code" = 200 ] && [ "$got" = "$want" ]
}

# check_body PORT HOST PATH EXPECTED: GET returns 200 and exactly EXPECTED.
check_body() {
  local body
  body=$(curl -sS --max-time 30 -H "Host: $2" "http://127.0.0.1:$1$3") || return 1
  echo "body=$(printf '%q' "$body")"
  [ "$body" = "$4" ]
}

# kl_check_wrong_secret CHECK PORT ORIGIN_PORT [RELAY_LOG]: a connector (the calling script's
# start_conn and svc) offers kite bad.test with a wrong secret through a recording tap in front
# of the relay at PORT. Passes if the connector logs a clear refusal, never goes live, and comes
# back at most twice in the next 5 s (no reconnect storm); with RELAY_LOG, the relay must have
# logged the refusal too.
kl_check_wrong_secret() {
  local check=$1 port=$2 origin=$3 tap_pid
  KL_BAD_RELAY_LOG=${4:-}
  if ! kl_start_tap tap-bad "$port"; then
    kl_check "$check" sh -c 'echo "the recording tap did not start"; exit 1'
    return 1
  fi
  KL_BAD_TAP=$TAP_DIR; tap_pid=$KL_BG_PID
  start_conn conn-bad "$TAP_PORT" "$(svc http:bad.test "$origin" wrongsecret)"
  KL_BAD_PID=$CONN_PID; KL_BAD_LOG=$CONN_LOG
  kl_wait_grep "$KL_BAD_LOG" 'refused' 30
  KL_BAD_T=$(date +%s%N)
  KL_BAD_N0=$(find "$KL_BAD_TAP" -name 'c*.up' | wc -l)
  sleep 5  # observation window: count how often the connector comes back
  KL_BAD_N1=$(find "$KL_BAD_TAP" -name 'c*.up' | wc -l)
  kl_check "$check" _kl_wrong_secret_verdict
  kl_stop "$KL_BAD_PID"; kl_stop "$tap_pid"
}

_kl_wrong_secret_verdict() {
  local more=$((KL_BAD_N1 - KL_BAD_N0))
  grep -E 'refused|rejected|signature|secret' "$KL_BAD_LOG" | head -n 3
  grep -qE 'kite bad\.test refused by relay .*' "$KL_BAD_LOG" || return 1
  if [ -n "$KL_BAD_RELAY_LOG" ] && ! grep -qE 'kite refused .*bad\.test|bad\.test.*refused' "$KL_BAD_RELAY_LOG"; then
    echo "relay log has no refusal for bad.test"; return 1
  fi
  echo "connections to the relay: $KL_BAD_N0 until the refusal, $more more in the next $(( ($(date +%s%N) - KL_BAD_T) / 1000000000 )) s"
  ! grep -q 'bad.test live' "$KL_TMP/conn-bad.out" && [ "$more" -le 2 ]
}

# ---- helpers shared by the authority tests (authdomain_test.sh, authapp_test.sh) and others

# kl_common_port ADDR...: a TCP port number the kernel picks on the first ADDR that is also free
# on every other ADDR (relays of one fleet share port numbers on 127.0.0.11-14); "" if none.
kl_common_port() {
  python3 - "$@" <<'PY'
import socket, sys
addrs = sys.argv[1:]
for _ in range(50):
    socks = []
    try:
        s = socket.socket(); s.bind((addrs[0], 0)); socks.append(s)
        port = s.getsockname()[1]
        for a in addrs[1:]:
            t = socket.socket(); t.bind((a, port)); socks.append(t)
        print(port); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}

# kl_free_port [ADDR]: a TCP port the kernel picks on ADDR (default 127.0.0.1).
kl_free_port() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1]); s.close()' \
    "${1:-127.0.0.1}"
}

# kl_pk_conn NAME FE_PORT KITE SECRET: pagekite.py connector for KITE (http) -> the HTTP origin;
# its log is $KL_TMP/NAME.log (PK_LOGFILE).
kl_pk_conn() {
  local name=$1 port=$2 kite=$3 secret=$4
  PK_LOGFILE="$KL_TMP/$name.log"; : > "$PK_LOGFILE"
  PK_TIMEOUT=850 PK_LOG="$PK_LOGFILE" \
    kl_bg "$name" 880 bash "$SHARED/interop/pk-backend.sh" "127.0.0.1:$port" "$kite" \
    "$ORIGIN_HTTP" "$secret" plain
}

# Checks on the kiteline relay's log ($RELAY_LOG) and a pagekite.py connector's log.
kl_check_kite_up() { kl_wait_grep "$RELAY_LOG" "kite up .*kite=http:$1( |$)" 30 && grep -F "kite up" "$RELAY_LOG" | grep -F "$1"; }
kl_check_authority_line() { grep -F "kite authenticated by authority" "$RELAY_LOG" | grep -F "$1" | grep -F "$2"; }
kl_check_pk_quota() { kl_wait_grep "$1" "quota_bw=$2" 10 && grep -F "quota_bw=$2" "$1" | head -n 2; }
kl_check_refused() { kl_wait_grep "$RELAY_LOG" "kite http:$1 refused: .*reason=$2" 30 && grep -F "kite http:$1 refused" "$RELAY_LOG" | head -n 2; }

# kl_pk_relay_with_conn EXTRA KITE SECRET: a pagekite.py relay (plain, PK_EXTRA=EXTRA) on a free
# port and a kiteline connector for http:KITE on it -> the HTTP origin. Sets PKR_PORT, PKR_LOG;
# the connector logs to $KL_TMP/conn.log and conn.out.
kl_pk_relay_with_conn() {
  local extra=$1 kite=$2 secret=$3
  PKR_PORT=$(kl_free_port); PKR_LOG="$KL_TMP/pkrelay.log"; : > "$PKR_LOG"
  PK_TIMEOUT=850 PK_LOG="$PKR_LOG" PK_EXTRA="$extra" \
    kl_bg pkrelay 880 bash "$SHARED/interop/pk-frontend.sh" "$PKR_PORT" "$KL_SECRET" plain
  kl_wait_grep "$PKR_LOG" "listen=127\.0\.0\.1:$PKR_PORT" 20 || { echo "pagekite.py relay did not start"; cat "$PKR_LOG"; return 1; }
  kl_bg conn 850 "$KITELINE" --clean --nullui "--frontend=127.0.0.1:$PKR_PORT" \
    "--logfile=$KL_TMP/conn.log" "--service_on=http:$kite:127.0.0.1:$ORIGIN_HTTP:$secret"
}
# kl_check_conn_live KITE / kl_check_conn_quota KB: the kiteline connector of kl_pk_relay_with_conn.
kl_check_conn_live() { kl_wait_grep "$KL_TMP/conn.out" "kite http:$1 live on relay" 30 && grep -F "live on relay" "$KL_TMP/conn.out"; }
kl_check_conn_quota() {
  kl_wait_grep "$KL_TMP/conn.log" "quota $1 kB" 10 || kl_wait_grep "$KL_TMP/conn.out" "quota $1 kB" 2 || return 1
  grep -hF "quota $1 kB" "$KL_TMP/conn.log" "$KL_TMP/conn.out" | head -n 2
}
