#!/usr/bin/env bash
# The least resident memory (VmRSS) the TLS chain's three processes could hold on this machine:
# three minimal C programs that link Debian's OpenSSL the way kiteline's relay, key process and
# connector do (libssl + libcrypto, dynamically), each with a TLS context made (the relay's two
# with a certificate and key loaded), then idle. No C++ runtime, no event loop, no logging, no
# visitor. Compare with rss_idle_1000 (target: 16 MiB for the whole chain). Prints one line per
# configuration: the sum of VmRSS and of PSS over the three processes, in MiB.
#
#   bash bench/rss_floor.sh            (needs gcc, libssl-dev, openssl; ~1 s)
set -euo pipefail

d=$(mktemp -d)
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
  rm -rf "$d"
}
trap cleanup EXIT

cat >"$d/p.c" <<'EOF'
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
/* argv[1]: "bare" (libc only), "client" (TLS client context), "server" (context + cert + key). */
int main(int argc, char** argv) {
  if (argc > 2 && strcmp(argv[1], "bare") != 0) {
    SSL_CTX* c = SSL_CTX_new(strcmp(argv[1], "server") == 0 ? TLS_server_method()
                                                            : TLS_client_method());
    if (c == NULL) return 1;
    if (strcmp(argv[1], "server") == 0 &&
        (SSL_CTX_use_certificate_chain_file(c, argv[2]) != 1 ||
         SSL_CTX_use_PrivateKey_file(c, argv[2], SSL_FILETYPE_PEM) != 1))
      return 1;
    if (SSL_new(c) == NULL) return 1;
  }
  printf("ready\n");
  fflush(stdout);
  pause();
  return 0;
}
EOF
gcc -O2 -o "$d/p" "$d/p.c" -lssl -lcrypto
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=fe.test \
  -keyout "$d/fe.pem" -out "$d/fe.crt" -days 1 2>/dev/null
cat "$d/fe.crt" >>"$d/fe.pem"

kib() { awk -v k="$2" '$1 == k":" {print $2}' "$1"; }

measure() {  # measure LABEL MODE... : one process per MODE, then the sums
  local label=$1 rss=0 pss=0 i=0 m
  shift
  pids=()
  for m in "$@"; do
    "$d/p" "$m" "$d/fe.pem" >"$d/out.$i" &
    pids+=($!)
    i=$((i + 1))
  done
  for ((i = 0; i < $#; i++)); do
    for _ in $(seq 1 100); do grep -q ready "$d/out.$i" 2>/dev/null && break; sleep 0.02; done
  done
  for p in "${pids[@]}"; do
    rss=$((rss + $(kib "/proc/$p/status" VmRSS)))
    pss=$((pss + $(kib "/proc/$p/smaps_rollup" Pss)))
  done
  kill "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
  awk -v l="$label" -v r="$rss" -v p="$pss" \
    'BEGIN { printf "%-58s RSS %5.1f MiB  PSS %5.1f MiB\n", l, r / 1024, p / 1024 }'
}

measure "3 processes, libc only (linked, OpenSSL untouched)" bare bare bare
measure "relay + key process (server context, cert) + connector" server server client
