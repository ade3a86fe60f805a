#!/usr/bin/env bash
# Fails when a module includes a module below it in the dependency order (style §2):
#   core -> metrics -> http -> wire -> sniff -> mux -> net -> tls -> keys -> tunnel -> accesslog
#   -> config -> fleet -> relay -> connector -> console -> app
# A module may include itself and any module above it, nothing else; a folder under src/ that
# is not in the order fails too (every module has its place). It also runs the pure modules'
# header check (no Asio, OpenSSL, logging or sockets in core, metrics, http, wire, sniff, mux).
# Usage: scripts/check-layers.sh [SOURCE_DIR]   (prints one line per module, then OK/FAIL)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
order=(core metrics http wire sniff mux net tls keys tunnel accesslog config fleet relay connector console app)
pure=(core metrics http wire sniff mux)
declare -A rank
for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done
bad=0
for dir in "$root"/src/*/; do
  mod=$(basename "$dir")
  if [ -z "${rank[$mod]+x}" ]; then
    echo "FAIL: src/$mod is not in the module order (scripts/check-layers.sh, style §2)"
    bad=1
    continue
  fi
  uses=()
  while IFS=: read -r file line inc; do
    dep=${inc#*\"}; dep=${dep%%/*}
    if [ -z "${rank[$dep]+x}" ]; then continue; fi
    if [ "${rank[$dep]}" -gt "${rank[$mod]}" ]; then
      echo "FAIL: ${file#"$root"/}:$line includes \"$dep/...\": $mod may include only modules above it"
      bad=1
    elif [ "$dep" != "$mod" ]; then
      uses+=("$dep")
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$dir" --include='*.hpp' --include='*.cpp' || true)
  used=$(printf '%s\n' "${uses[@]:-}" | grep . | sort -u | tr '\n' ' ' || true)
  printf '  %-10s uses: %s\n' "$mod" "${used:-(nothing)}"
done
for mod in "${pure[@]}"; do
  if grep -rnE '#include *[<"](asio|openssl/|spdlog|fmt/|sys/socket|netinet/|arpa/)' \
       "$root/src/$mod"; then
    echo "FAIL: the pure module $mod includes an I/O header (above)"
    bad=1
  fi
done
if [ $bad = 0 ]; then echo "layers: OK (${order[*]})"; else echo "layers: FAIL"; fi
exit $bad
