#!/usr/bin/env bash
# kiteline's benchmark: kiteline against pagekite.py, haproxy+stunnel, ssh -R
# and direct loopback, side by side in one run (issue #5).
#
# Usage: bench/run.sh [--quick] [CHAIN...]
#
# Chains (default: the first eight):
#   direct           visitor -> nginx (the limit)
#   kiteline         kiteline relay -> TLS tunnel -> kiteline connector -> nginx
#   kiteline-plain   the same, tunnel without TLS
#   pagekite         Debian's pagekite.py at both ends, TLS tunnel
#   haproxy-stunnel  haproxy (HTTP mode) -> TLS -> stunnel -> nginx
#   ssh-reverse      private sshd <- ssh -N -R (OpenSSH reverse tunnel)
#   floor-tls        yardstick: the cheapest two-hop relay with a user-space
#                    AES-256-GCM tunnel (bench/floor_relay.cpp); no idle metrics
#   floor-plain      the same without encryption
#   floor-ssl        yardstick: a minimal such relay whose tunnel is real
#                    TLS 1.3 through OpenSSL's libssl, polled as by an event loop
#   pagekite-plain   pagekite.py, tunnel without TLS (not in the default list)
#
# It builds the release preset (unless $KITELINE names a binary), starts an
# nginx origin on 127.0.0.1, and per round starts, measures and stops every
# chain (order rotated by one each round).  Medians go to a table, a ratio
# table (kiteline against each chain) and a TARGETS check, printed and
# written to $BENCH_OUT/table.md; all values to results.tsv / raw.tsv.
#
# Environment (all optional):
#   KITELINE        kiteline binary (default: build/release/src/kiteline, built)
#   KITELINE_FLOOR  kiteline_floor binary (default: build/release/bench/kiteline_floor)
#   BENCH_OUT       output directory                      (mktemp -d)
#   BENCH_QUICK=1   same as --quick: 1 round, 5 s caps, idle 1000, chains
#                   direct kiteline haproxy-stunnel; under 2 minutes
#   BENCH_ROUNDS    rounds                                (3)
#   BENCH_CAP_S     time limit of each download, s        (10)
#   BENCH_RPS_S     wrk duration for rps_1k, s            (10)
#   BENCH_SETUP_S   wrk duration for setup_rate, s        (5)
#   BENCH_IDLE_N    idle connection counts                ("1000 10000")
#   BENCH_IDLE_DEADLINE_S  time allowed to open them, s   (60)
#   BENCH_IDLE_HOLD_S      idle time before counting, s   (5)
#   BENCH_KL_FE_EXTRA / BENCH_KL_BE_EXTRA  extra kiteline relay / connector flags
#   BENCH_NO_INSTALL=1     do not install the peers (scripts/install-deps.sh --bench)
#   BENCH_JOBS      build parallelism                     (2)
#   PAGEKITE        pagekite executable                   (pagekite in PATH)
#
# Loopback only: every listener is on 127.0.0.1, on a free port picked at run
# time.  Every process runs under `timeout` and is stopped by PID.
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
DEFAULT_CHAINS=(direct kiteline kiteline-plain pagekite haproxy-stunnel ssh-reverse floor-tls floor-ssl floor-plain)
KNOWN_CHAINS=" direct kiteline kiteline-plain pagekite pagekite-plain haproxy-stunnel ssh-reverse floor-tls floor-ssl floor-plain "

QUICK=${BENCH_QUICK:-0}
CHAINS=()
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,42p' "$0"; exit 0 ;;
    --quick) QUICK=1 ;;
    -*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    *) case "$KNOWN_CHAINS" in
         *" $a "*) CHAINS+=("$a") ;;
         *) echo "run.sh: unknown chain '$a'" >&2; exit 2 ;;
       esac ;;
  esac
done
if [ "$QUICK" != 0 ]; then
  [ ${#CHAINS[@]} -gt 0 ] || CHAINS=(direct kiteline haproxy-stunnel)
  ROUNDS=${BENCH_ROUNDS:-1}; CAP=${BENCH_CAP_S:-5}; RPS_S=${BENCH_RPS_S:-3}
  SETUP_S=${BENCH_SETUP_S:-2}; _idle=${BENCH_IDLE_N:-1000}
  IDLE_DEADLINE=${BENCH_IDLE_DEADLINE_S:-20}; IDLE_HOLD=${BENCH_IDLE_HOLD_S:-2}
else
  [ ${#CHAINS[@]} -gt 0 ] || CHAINS=("${DEFAULT_CHAINS[@]}")
  ROUNDS=${BENCH_ROUNDS:-3}; CAP=${BENCH_CAP_S:-10}; RPS_S=${BENCH_RPS_S:-10}
  SETUP_S=${BENCH_SETUP_S:-5}; _idle=${BENCH_IDLE_N:-1000 10000}
  IDLE_DEADLINE=${BENCH_IDLE_DEADLINE_S:-60}; IDLE_HOLD=${BENCH_IDLE_HOLD_S:-5}
fi
read -r -a IDLE_NS <<< "${_idle//,/ }"
IDLE_MAX=0
for n in "${IDLE_NS[@]}"; do
  case "$n" in ''|*[!0-9]*) echo "run.sh: BENCH_IDLE_N: '$n' is not a number" >&2; exit 2 ;; esac
  [ "$n" -gt "$IDLE_MAX" ] && IDLE_MAX=$n
done
CHAIN_TTL=$((CAP * 2 + RPS_S + SETUP_S + ${#IDLE_NS[@]} * (IDLE_DEADLINE + IDLE_HOLD + 40) + 180))
PY=${PY:-$(command -v python3)}
TOOL=("$PY" "$BENCH_DIR/lib/benchtool.py")
CLK_TCK=$(getconf CLK_TCK)
GIB=1073741824
PART=$((GIB / 4))     # throughput_8: 256 MiB per visitor ...
STRIDE=$((96 << 20))  # ... visitor i starting at i * 96 MiB
PATH=$PATH:/usr/sbin

# The peers and tools come from Debian packages (skip with BENCH_NO_INSTALL=1).
if [ "${BENCH_NO_INSTALL:-}" != 1 ]; then
  bash "$SRC_DIR/scripts/install-deps.sh" --bench >&2 || { echo "run.sh: installing the bench tools failed" >&2; exit 2; }
fi
for tool in nginx curl wrk openssl timeout cmp "$PY"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool not found" >&2; exit 2; }
done

# ------------------------------------------------------------------ build
if [ -z "${KITELINE:-}" ]; then
  log_build=$(mktemp -t bench-build.XXXXXX)
  echo "run.sh: building the release preset (log: $log_build)" >&2
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if ! (cd "$SRC_DIR" && cmake --preset release "${launcher[@]}" &&
        cmake --build --preset release --target kiteline kiteline_floor -j "${BENCH_JOBS:-2}") >"$log_build" 2>&1; then
    tail -n 30 "$log_build" >&2; echo "run.sh: build failed" >&2; exit 1
  fi
  KITELINE=$SRC_DIR/build/release/src/kiteline
fi
KITELINE=$(readlink -f "$KITELINE")
KITELINE_FLOOR=${KITELINE_FLOOR:-$(dirname "$KITELINE")/../bench/kiteline_floor}
[ -x "$KITELINE_FLOOR" ] && KITELINE_FLOOR=$(readlink -f "$KITELINE_FLOOR")
[ -x "$KITELINE" ] || { echo "run.sh: KITELINE=$KITELINE is not executable" >&2; exit 2; }

# Descriptors: the idle client holds IDLE_MAX, a relay as many plus its tunnel.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE_MAX + 256)) ]; then
  echo "run.sh: open-file limit $(ulimit -n) is too low for $IDLE_MAX idle connections" >&2
  exit 2
fi

BENCH_OUT=${BENCH_OUT:-$(mktemp -d -t bench-out.XXXXXX)}
mkdir -p "$BENCH_OUT/logs" || exit 1
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
WORK=$(mktemp -d -t bench-work.XXXXXX) || exit 1
RAW=$BENCH_OUT/raw.tsv

# shellcheck source=lib/origin.sh
. "$BENCH_DIR/lib/origin.sh"
# shellcheck source=lib/chains.sh
. "$BENCH_DIR/lib/chains.sh"

cleanup() {
  trap - EXIT INT TERM
  chain_stop
  origin_stop
  # Keep the chains' logs and configs; drop keys and the 1 GiB file.
  [ -d "$WORK/chains" ] && cp -r "$WORK/chains/." "$BENCH_OUT/logs/" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
record() {  # record ROUND CHAIN METRIC VALUE [NOTE]
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >> "$RAW"
}
calc() { "$PY" -c "print($1)" 2>/dev/null || echo nan; }
r1() { printf '%.1f' "$1" 2>/dev/null || echo "$1"; }

# -------------------------------------------------------------- preflight
ORIGIN_PORT=$(free_ports 1)
log "work dir $WORK, output $BENCH_OUT, kiteline $KITELINE"
log "generating the origin files (1 GiB) and starting nginx on 127.0.0.1:$ORIGIN_PORT"
origin_start "$WORK/origin" "$ORIGIN_PORT" $((ROUNDS * ${#CHAINS[@]} * (CHAIN_TTL + 60) + 600)) ||
  { echo "run.sh: origin failed" >&2; exit 1; }
make_credentials "$WORK/certs" "$WORK/ssh" || { echo "run.sh: openssl or ssh-keygen failed" >&2; exit 1; }
cat "$WORK/origin/www/1g.bin" > /dev/null   # into the page cache before the first chain

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "kernel: $(uname -srm)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "kiteline: $KITELINE ($("$KITELINE" --version 2>&1 | head -n 1); git $(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$SRC_DIR" diff --quiet HEAD -- src 2>/dev/null || echo +dirty))"
  echo "nginx: $(nginx -v 2>&1 | sed 's/.*version: //')"
  echo "pagekite: $(dpkg-query -W -f '${Version}' pagekite 2>/dev/null)"
  echo "haproxy: $(haproxy -v 2>/dev/null | head -n 1 | awk '{print $3}')"
  echo "stunnel: $(stunnel -version 2>&1 | awk '/^stunnel/ {print $2; exit}')"
  echo "openssh: $(ssh -V 2>&1 | awk '{print $1}')"
  echo "openssl: $(openssl version | awk '{print $2}')"
  echo "wrk: $(wrk --version 2>&1 | head -n 1 | awk '{print $2}')"
  echo "curl: $(curl --version | head -n 1 | awk '{print $2}')"
  echo "python3: $("$PY" --version 2>&1 | awk '{print $2}')"
  echo "open files: $(ulimit -n)"
  echo "load before run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "settings: rounds=$ROUNDS cap=${CAP}s rps=${RPS_S}s setup=${SETUP_S}s idle=${IDLE_NS[*]} (open within ${IDLE_DEADLINE}s, hold ${IDLE_HOLD}s) quick=$QUICK"
  echo "chains: ${CHAINS[*]}"
} > "$BENCH_OUT/meta.txt"
printf 'round\tchain\tmetric\tvalue\tnote\n' > "$RAW"

# ----------------------------------------------------------- measurements
# ERRORS counts, per chain and round, every failed or short transfer, wrk
# socket error or non-2xx, idle connection that failed to open, died or did
# not carry a second request, restart, process exit and error/crash log line.
ERRORS=0
add_errors() { ERRORS=$((ERRORS + $1)); }

# ensure_serving ROUND CHAIN WHAT: still serves 64k.bin byte-exact; else
# restart the chain once (counted as an error).
ensure_serving() {
  site_ok "$CHAIN_PORT" && chain_alive && return 0
  add_errors 1
  record "$1" "$2" note "not serving before $3; restarted"
  log "  $2 not serving before $3, restarting it"
  chain_stop
  LOG_ERRS=0
  chain_start "$2" && return 0
  record "$1" "$2" note "restart failed: $CHAIN_ERR"
  return 1
}

LOG_ERRS=0
log_check() {  # log_check ROUND CHAIN METRIC: new error/crash lines in the chain's logs
  local lines n
  lines=$(chain_error_lines)
  n=$(printf '%s' "$lines" | grep -c '^' )
  if [ "$n" -gt "$LOG_ERRS" ]; then
    add_errors $((n - LOG_ERRS))
    record "$1" "$2" note "$((n - LOG_ERRS)) error/crash log line(s) during $3, e.g.: $(printf '%s\n' "$lines" | sed -n "$((LOG_ERRS + 1))p" | cut -c1-160)"
    log "  $((n - LOG_ERRS)) error line(s) in the logs during $3"
    LOG_ERRS=$n
  fi
}

cpu_ticks() {
  if [ ${#CHAIN_PIDS[@]} -eq 0 ]; then echo 0; else "${TOOL[@]}" cpu "${CHAIN_PIDS[@]}"; fi
}

m_throughput_1() {  # ROUND CHAIN
  local c0 c1 out code bytes secs rc mbs cpu=nan note=""
  c0=$(cpu_ticks)
  out=$(curl -s -o /dev/null --max-time "$CAP" -H "Host: $SITE" \
        -w '%{http_code} %{size_download} %{time_total}' "http://127.0.0.1:$CHAIN_PORT/1g.bin"); rc=$?
  c1=$(cpu_ticks)
  read -r code bytes secs <<< "$out"
  bytes=${bytes:-0}
  mbs=$(calc "$bytes / $secs / 1e6")
  [ ${#CHAIN_PIDS[@]} -gt 0 ] && [ "$bytes" -gt 0 ] && cpu=$(calc "($c1 - $c0) / $CLK_TCK / ($bytes / $GIB)")
  if [ "$rc" = 28 ]; then note="capped at ${CAP}s"
  elif [ "$rc" != 0 ] || [ "$code" != 200 ]; then note="curl rc=$rc http=$code after $((bytes >> 20)) MiB"; add_errors 1
  elif [ "$bytes" != "$GIB" ]; then note="short: $bytes bytes"; add_errors 1; fi
  [ "$bytes" -gt 0 ] || mbs=nan
  record "$1" "$2" throughput_1 "$mbs" "$note"
  record "$1" "$2" throughput_1_bytes "$bytes"
  record "$1" "$2" cpu_per_gib "$cpu"
  log "  throughput_1 $(r1 "$mbs") MB/s ($((bytes >> 20)) MiB), cpu $(r1 "$cpu") s/GiB ${note:+($note)}"
}

m_throughput_8() {
  local i t0 t1 pids=() total=0 bad=0 capped=0 c0 c1 rc code bytes mbs note="" cpu=nan
  c0=$(cpu_ticks)
  t0=$(date +%s.%N)
  for i in 0 1 2 3 4 5 6 7; do
    curl -s -o /dev/null --max-time "$CAP" -H "Host: $SITE" \
      -H "Range: bytes=$((i * STRIDE))-$((i * STRIDE + PART - 1))" -w '%{http_code} %{size_download}' \
      "http://127.0.0.1:$CHAIN_PORT/1g.bin" > "$WORK/t8.$i" 2>/dev/null &
    pids+=($!)
  done
  for i in 0 1 2 3 4 5 6 7; do
    wait "${pids[$i]}"; rc=$?
    read -r code bytes < "$WORK/t8.$i"
    total=$((total + ${bytes:-0}))
    if [ "$rc" = 28 ]; then capped=$((capped + 1))
    elif [ "$rc" != 0 ] || [ "$code" != 206 ] || [ "$bytes" != "$PART" ]; then bad=$((bad + 1)); fi
  done
  t1=$(date +%s.%N)
  c1=$(cpu_ticks)
  mbs=$(calc "$total / ($t1 - $t0) / 1e6")
  [ "$total" -gt 0 ] || mbs=nan
  [ $capped -gt 0 ] && note="$capped of 8 capped at ${CAP}s"
  [ $bad -gt 0 ] && { note="${note:+$note; }$bad of 8 failed or short"; add_errors $bad; }
  [ ${#CHAIN_PIDS[@]} -gt 0 ] && [ "$total" -gt 0 ] && cpu=$(calc "($c1 - $c0) / $CLK_TCK / ($total / $GIB)")
  record "$1" "$2" throughput_8 "$mbs" "$note"
  record "$1" "$2" throughput_8_bytes "$total"
  record "$1" "$2" cpu_per_gib_8 "$cpu"
  log "  throughput_8 $(r1 "$mbs") MB/s (total $((total >> 20)) MiB) ${note:+($note)}"
}

# run_wrk ROUND CHAIN METRIC SECONDS [wrk args]: wrk -t2 -c64 on 1k.bin;
# records METRIC (req/s) and METRIC_errors, sets WRK_P50 and WRK_P99 (ms).
WRK_P50=nan
WRK_P99=nan
run_wrk() {
  local r=$1 c=$2 m=$3 s=$4 f rps p50 p99 req errs note=""
  shift 4
  f=$CHAIN_DIR/wrk-$m.r$r.txt
  timeout -k 5 $((s + 30)) wrk -t2 -c64 -d"${s}s" --latency -H "Host: $SITE" "$@" \
    "http://127.0.0.1:$CHAIN_PORT/1k.bin" > "$f" 2>&1
  read -r rps p50 p99 req errs < <("${TOOL[@]}" wrk "$f")
  if [ "${req:-0}" -le 0 ]; then rps=nan; p50=nan; p99=nan; note="no request completed"; errs=$((errs + 1)); fi
  [ "${errs:-0}" -gt 0 ] && note="${note:+$note; }wrk errors (socket or non-2xx): $errs of $req"
  add_errors "${errs:-0}"
  record "$r" "$c" "$m" "$rps" "$note"
  record "$r" "$c" "${m}_errors" "${errs:-nan}"
  log "  $m $rps/s p50 $p50 ms p99 $p99 ms ${note:+($note)}"
  WRK_P50=$p50
  WRK_P99=$p99
}

m_rps_1k() {
  run_wrk "$1" "$2" rps_1k "$RPS_S"
  record "$1" "$2" rps_1k_p50 "$WRK_P50"
  record "$1" "$2" rps_1k_p99 "$WRK_P99"
}

m_setup_rate() {
  run_wrk "$1" "$2" setup_rate "$SETUP_S" -H "Connection: close"
  record "$1" "$2" setup_rate_p99 "$WRK_P99"
}

m_idle() {  # ROUND CHAIN N
  local n=$3 out kv established=0 alive=0 reused=0 rss=nan pss=nan base=nan threads=nan
  local open_errors=0 errors="" open_s=nan note="" lost
  out=$(timeout -k 5 $((IDLE_DEADLINE + IDLE_HOLD + 60 + n / 100)) "${TOOL[@]}" idle "$CHAIN_PORT" "$n" \
        --pids "$(IFS=,; echo "${CHAIN_PIDS[*]}")" --hostname "$SITE" --hold "$IDLE_HOLD" \
        --open-deadline "$IDLE_DEADLINE" 2>"$WORK/idle.err")
  for kv in $out; do
    case "$kv" in
      established=*) established=${kv#*=} ;;   alive=*) alive=${kv#*=} ;;
      reused=*) reused=${kv#*=} ;;             rss_kib=*) rss=${kv#*=} ;;
      pss_kib=*) pss=${kv#*=} ;;               rss_before_kib=*) base=${kv#*=} ;;
      threads=*) threads=${kv#*=} ;;           open_s=*) open_s=${kv#*=} ;;
      open_errors=*) open_errors=${kv#*=} ;;   errors=*) errors=${kv#*=} ;;
    esac
  done
  if [ -z "$out" ]; then
    note="idle client failed: $(tail -n 1 "$WORK/idle.err")"; add_errors 1
  elif [ ${#CHAIN_PIDS[@]} -eq 0 ]; then
    rss=nan; pss=nan; base=nan; threads=nan
  else
    rss=$(calc "$rss / 1024"); pss=$(calc "$pss / 1024"); base=$(calc "$base / 1024")
  fi
  lost=$((open_errors + established - alive + alive - reused))
  [ "$lost" -gt 0 ] && { add_errors "$lost"
    note="${note:+$note; }$open_errors not opened ($errors), $((established - alive)) died idle, $((alive - reused)) failed a second request"; }
  record "$1" "$2" "rss_idle_$n" "$rss" "$note"
  record "$1" "$2" "pss_idle_$n" "$pss"
  record "$1" "$2" "rss_base_$n" "$base"
  record "$1" "$2" "idle_established_$n" "$established"
  record "$1" "$2" "idle_alive_$n" "$alive"
  record "$1" "$2" "idle_reused_$n" "$reused"
  record "$1" "$2" "idle_threads_$n" "$threads"
  record "$1" "$2" "idle_open_s_$n" "$open_s"
  log "  idle $n: established $established in ${open_s}s, alive $alive, reused $reused, rss $(r1 "$rss") MiB (base $(r1 "$base")) ${note:+($note)}"
}

# ------------------------------------------------------------------- main
START=$SECONDS
declare -A SKIPPED=()
for ((r = 1; r <= ROUNDS; r++)); do
  nchains=${#CHAINS[@]}
  for ((k = 0; k < nchains; k++)); do
    chain=${CHAINS[$(((k + r - 1) % nchains))]}
    [ -n "${SKIPPED[$chain]:-}" ] && continue
    log "round $r/$ROUNDS: $chain"
    ERRORS=0
    LOG_ERRS=0
    chain_start "$chain"; rc=$?
    if [ $rc = 3 ]; then
      SKIPPED[$chain]=1; log "  $chain: $CHAIN_ERR"; record "$r" "$chain" note "$CHAIN_ERR"; continue
    elif [ $rc != 0 ]; then
      log "  $chain failed to start: $CHAIN_ERR"
      record "$r" "$chain" note "start failed: $CHAIN_ERR"
      record "$r" "$chain" errors 1
      chain_stop; continue
    fi
    [ "$r" = 1 ] && record "$r" "$chain" note "$CHAIN_INFO"
    read -r busy0 ours0 time0 < <("${TOOL[@]}" load $$ "$ORIGIN_PID")
    steps=(throughput_1 throughput_8 rps_1k setup_rate)
    # The floor chains are a yardstick for the data path (two threads per
    # visitor, not built to hold thousands idle).
    case "$chain" in floor-*) ;; *) for n in "${IDLE_NS[@]}"; do steps+=("idle:$n"); done ;; esac
    for m in "${steps[@]}"; do
      sleep 1
      ensure_serving "$r" "$chain" "$m" || break
      case "$m" in
        idle:*) m_idle "$r" "$chain" "${m#idle:}" ;;
        *) "m_$m" "$r" "$chain" ;;
      esac
      log_check "$r" "$chain" "$m"
    done
    read -r busy1 ours1 time1 < <("${TOOL[@]}" load $$ "$ORIGIN_PID")
    # CPU used by processes outside this run, in % of the machine: how
    # noisy the round was (other jobs on a shared machine).
    other=$(calc "max(0.0, 100.0 * (($busy1 - $busy0) - ($ours1 - $ours0)) / (max(0.1, $time1 - $time0) * $(nproc) * $CLK_TCK))")
    record "$r" "$chain" other_cpu_pct "$other"
    if ! chain_alive; then
      add_errors 1; record "$r" "$chain" note "a chain process had exited by the end of the round"
    fi
    record "$r" "$chain" errors "$ERRORS"
    log "  errors $ERRORS; other processes used $(r1 "$other")% of the CPU during this round"
    chain_stop
  done
done
log "done in $((SECONDS - START)) s"
echo "load after run: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$BENCH_OUT/meta.txt"
echo "duration: $((SECONDS - START)) s" >> "$BENCH_OUT/meta.txt"

{
  echo "## kiteline benchmark, medians of $ROUNDS round(s) ($(date -u +%Y-%m-%d), $(nproc) cores, loopback)"
  echo
  BENCH_IDLE_N="${IDLE_NS[*]}" "${TOOL[@]}" summarize "$RAW" "$BENCH_OUT" "${CHAINS[@]}"
} > "$WORK/table.txt"
mv "$WORK/table.txt" "$BENCH_OUT/table.md"
cat "$BENCH_OUT/table.md"
echo
echo "Results: $BENCH_OUT/table.md, results.tsv (raw values: raw.tsv, machine: meta.txt, logs: logs/)"
