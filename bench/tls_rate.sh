#!/usr/bin/env bash
# Handshake rate of a kiteline relay's own TLS endpoint, with the private key in the key
# process (default) and in the network process (--tls_keys_inprocess): issue 6's "isolation may
# cost at most 20 %", measured on the real relay over loopback TCP rather than in memory
# (bench/tls_handshake_rate.cpp is the in-memory view). For each key type and TLS version,
# the two modes alternate for ROUNDS rounds; each round starts a fresh relay and runs CLIENTS
# `openssl s_time -new` loops (full handshakes, no resumption, one TCP connection each) for
# SECONDS, then prints the handshakes/s of the round; the summary is the median per mode.
# The clients share the machine's CPUs with the relay, as every figure in bench/ does.
#   KITELINE            the binary (default build/release/src/kiteline)
#   TLS_RATE_SECONDS    seconds per round (default 8)
#   TLS_RATE_ROUNDS     rounds per mode (default 3)
#   TLS_RATE_CLIENTS    parallel s_time clients (default: number of CPUs)
set -euo pipefail
cd "$(dirname "$0")/.."
KITELINE=${KITELINE:-build/release/src/kiteline}
SECS=${TLS_RATE_SECONDS:-8}
ROUNDS=${TLS_RATE_ROUNDS:-3}
CLIENTS=${TLS_RATE_CLIENTS:-$(nproc)}
if [ ! -x "$KITELINE" ]; then
  echo "tls_rate.sh: $KITELINE not found (cmake --preset release && cmake --build --preset release)" >&2
  exit 1
fi
tmp=$(mktemp -d /tmp/kiteline-tlsrate-XXXXXX)
relay_pid=""
cleanup() {
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$tmp/p256.key" -out "$tmp/p256.crt" -subj /CN=fe.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
  -keyout "$tmp/rsa2048.key" -out "$tmp/rsa2048.crt" -subj /CN=fe.test 2>/dev/null
for k in p256 rsa2048; do cat "$tmp/$k.key" "$tmp/$k.crt" >"$tmp/$k.pem"; done

# start_relay PEM [ARGS...]: sets relay_pid, port.
start_relay() {
  local pem=$1; shift
  "$KITELINE" --clean --isfrontend --host=127.0.0.1 --ports=0 --protos=http,https \
    "--domain=http,https:*.test:bench-secret" "--tls_endpoint=fe.test:$pem" \
    --tls_default=fe.test --tls_reload_seconds=0 "--logfile=$tmp/relay.log" "$@" \
    >"$tmp/relay.out" 2>"$tmp/relay.err" &
  relay_pid=$!
  for _ in $(seq 1 200); do
    port=$(sed -nE 's/^kiteline relay ready ports=([0-9]+).*/\1/p' "$tmp/relay.out")
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "relay did not start:" >&2
  cat "$tmp/relay.out" "$tmp/relay.err" >&2
  exit 1
}

stop_relay() {
  kill "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=""
}

# cpu_ticks PID: user + system clock ticks of a process so far (0 if it is gone).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# round KEY PROTO MODE: prints "handshakes/s relay-CPU-microseconds-per-handshake" (the relay
# and its key process together: with every CPU busy, that bounds the relay's rate).
round() {
  local key=$1 proto=$2 mode=$3 args=() i total=0 secs n count=0 ticks kp
  [ "$mode" = inprocess ] && args=(--tls_keys_inprocess)
  start_relay "$tmp/$key.pem" "${args[@]}"
  kp=$(pgrep -P "$relay_pid" || true)
  ticks=$(( $(cpu_ticks "$relay_pid") + ${kp:+$(cpu_ticks "$kp")} + 0 ))
  local clients=()
  for i in $(seq 1 "$CLIENTS"); do
    openssl s_time -connect "127.0.0.1:$port" -new "-$proto" -time "$SECS" \
      >"$tmp/client.$i" 2>&1 &
    clients+=($!)
  done
  wait "${clients[@]}"
  ticks=$(( $(cpu_ticks "$relay_pid") + ${kp:+$(cpu_ticks "$kp")} + 0 - ticks ))
  stop_relay
  for i in $(seq 1 "$CLIENTS"); do
    # "1234 connections in 8.01 real seconds, ..."
    read -r n secs < <(sed -nE 's/^([0-9]+) connections in ([0-9.]+) real seconds.*/\1 \2/p' \
                         "$tmp/client.$i" | tail -n 1)
    if [ -z "${n:-}" ]; then
      echo "s_time failed:" >&2
      cat "$tmp/client.$i" >&2
      exit 1
    fi
    total=$(awk -v t="$total" -v n="$n" -v s="$secs" 'BEGIN { printf "%.1f", t + n / s }')
    count=$((count + n))
  done
  awk -v t="$total" -v k="$ticks" -v hz="$(getconf CLK_TCK)" -v c="$count" \
    'BEGIN { printf "%s %.0f\n", t, k / hz * 1e6 / c }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "kiteline relay TLS handshake rate: $CLIENTS x openssl s_time -new, ${SECS}s x $ROUNDS rounds per mode"
echo "git $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, $(date -u +%FT%TZ)"
echo "hs/s: handshakes per second of all clients; cpu: relay (+ key process) CPU-us per handshake"
printf '%-8s %-7s | %9s %9s %6s | %6s %6s %6s | %s\n' key tls "hs/s key" "hs/s in" cost \
  "cpu key" "cpu in" cost "rounds (key-process / in-process, hs/s:cpu)"
for key in p256 rsa2048; do
  for proto in tls1_3 tls1_2; do
    iso=() inp=()
    for _ in $(seq 1 "$ROUNDS"); do
      iso+=("$(round "$key" "$proto" keyprocess | tr ' ' :)")
      inp+=("$(round "$key" "$proto" inprocess | tr ' ' :)")
    done
    ri=$(printf '%s\n' "${iso[@]}" | cut -d: -f1 | median)
    rp=$(printf '%s\n' "${inp[@]}" | cut -d: -f1 | median)
    ci=$(printf '%s\n' "${iso[@]}" | cut -d: -f2 | median)
    cp=$(printf '%s\n' "${inp[@]}" | cut -d: -f2 | median)
    rate_cost=$(awk -v a="$ri" -v b="$rp" 'BEGIN { printf "%.1f%%", (1 - a / b) * 100 }')
    cpu_cost=$(awk -v a="$ci" -v b="$cp" 'BEGIN { printf "%.1f%%", (a / b - 1) * 100 }')
    printf '%-8s %-7s | %9s %9s %6s | %6s %6s %6s | %s / %s\n' "$key" "$proto" "$ri" "$rp" \
      "$rate_cost" "$ci" "$cp" "$cpu_cost" "${iso[*]}" "${inp[*]}"
  done
done
