#!/usr/bin/env bash
# Forwarding between relays (issue 24): one visitor's throughput (one large download through
# curl) and latency (wrk, small requests, p99) sent to 127.0.0.13, which forwards to the holder
# 127.0.0.11, against the same visitor sent straight to the holder; prints both and the ratios.
# The set-up is tests/interop/fleet_lib.sh's (Knot on 127.0.0.10, a kiteline connector on .11).
#
# Usage: bench/fleet.sh KITELINE_BINARY SHARED_DIR [MIB] [WRK_SECONDS]
#   MIB          size of the download (default 1024)
#   WRK_SECONDS  length of each latency run (default 5; 4 connections, 1 thread; kept alive,
#                then a new connection per request)
#   ROUNDS=N     (environment) downloads each way, interleaved; medians compared (default 3)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in -h|--help|"") sed -n '2,12p' "$0"; exit 0 ;; esac
source "$HERE/../tests/interop/lib.sh"
source "$HERE/../tests/interop/knot_lib.sh"
source "$HERE/../tests/interop/fleet_lib.sh"
kl_init "$1" "$2"
MIB=${3:-1024}
WRK_SECONDS=${4:-5}
ROUNDS=${ROUNDS:-3}
command -v wrk >/dev/null || { echo "fleet.sh: wrk is not installed" >&2; exit 2; }

kl_make_certs || exit 1
kl_make_file big.bin $((MIB << 20)) 47474747474747474747474747474747
kl_make_file 1k.bin 1024 48484848484848484848484848484848
WANT=$(kl_sha "$KL_TMP/www/big.bin")
kl_start_origin || exit 1
knot_start 127.0.0.10 "$FLEET_ZONE" || exit 1
fleet_setup || exit 1

# download RELAY_ADDR: prints bytes/s (and fails on a wrong body).
download() {
  local info code speed
  info=$(curl -sS --max-time 300 -H 'Host: web.test' -o "$KL_TMP/got.bin" \
    -w '%{http_code} %{speed_download}' "http://$1:$PUB/f/big.bin") || return 1
  read -r code speed <<<"$info"
  if [ "$code" != 200 ] || [ "$(kl_sha "$KL_TMP/got.bin")" != "$WANT" ]; then
    echo "fleet.sh: bad download via $1 (status $code)" >&2; return 1
  fi
  rm -f "$KL_TMP/got.bin"
  echo "$speed"
}

# p99 RELAY_ADDR [WRK ARGS]: wrk's 99th percentile latency in ms, and requests/s.
p99() {
  local out addr=$1; shift
  out=$(wrk -t1 -c4 "-d${WRK_SECONDS}s" --latency -H 'Host: web.test' "$@" \
    "http://$addr:$PUB/f/1k.bin") || return 1
  awk '/^ +99%/ { v=$2; if (v ~ /us$/) { sub(/us/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms/,"",v) }
       else if (v ~ /s$/) { sub(/s/,"",v); v*=1000 } ; p=v }
       /^Requests\/sec/ { r=$2 } END { printf "%.3f %.0f\n", p, r }' <<<"$out"
}

download 127.0.0.11 >/dev/null || exit 1  # warm both paths (page cache, first lookup)
download 127.0.0.13 >/dev/null || exit 1
# ROUNDS downloads each way, interleaved (direct, forwarded, direct, ...): the median of each.
ds=(); fs=()
for (( i = 0; i < ROUNDS; i++ )); do
  ds+=("$(download 127.0.0.11)") || exit 1
  fs+=("$(download 127.0.0.13)") || exit 1
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
direct=$(median "${ds[@]}")
forwarded=$(median "${fs[@]}")
echo "downloads, bytes/s: direct ${ds[*]}; forwarded ${fs[*]}"
read -r direct_p99 direct_rps <<<"$(p99 127.0.0.11)"
read -r fwd_p99 fwd_rps <<<"$(p99 127.0.0.13)"
# A new connection per request: the forwarding relay's lookup (cached) and peer connect each time.
read -r direct_c99 direct_crps <<<"$(p99 127.0.0.11 -H 'Connection: close')"
read -r fwd_c99 fwd_crps <<<"$(p99 127.0.0.13 -H 'Connection: close')"
awk -v d="$direct" -v f="$forwarded" -v mib="$MIB" -v dp="$direct_p99" -v fp="$fwd_p99" \
    -v dr="$direct_rps" -v fr="$fwd_rps" -v dc="$direct_c99" -v fc="$fwd_c99" \
    -v dcr="$direct_crps" -v fcr="$fwd_crps" 'BEGIN {
  printf "download %d MiB  direct to holder: %8.1f MB/s   forwarded: %8.1f MB/s   ratio %.3f\n", mib, d/1e6, f/1e6, f/d
  printf "1 KiB GETs p99   direct to holder: %8.3f ms     forwarded: %8.3f ms     ratio %.3f\n", dp, fp, fp/dp
  printf "1 KiB GETs req/s direct to holder: %8.0f        forwarded: %8.0f        ratio %.3f\n", dr, fr, fr/dr
  printf "1 KiB GETs, a connection each: p99 direct %.3f ms, forwarded %.3f ms (ratio %.3f); req/s direct %.0f, forwarded %.0f (ratio %.3f)\n", dc, fc, fc/dc, dcr, fcr, fcr/dcr
}'
