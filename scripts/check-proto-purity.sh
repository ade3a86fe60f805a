#!/usr/bin/env bash
# Fails if the pure codec (kiteline_proto = core + http + wire + sniff + mux) includes or references
# anything from Asio, OpenSSL, spdlog/fmt or sockets. Args: SOURCE_DIR LIB...
set -euo pipefail
src=$1; shift
bad=0
if grep -rnE '#include *[<"](asio|openssl/|spdlog|fmt/|sys/socket|netinet/|arpa/)' \
     "$src/src/core" "$src/src/http" "$src/src/wire" "$src/src/sniff" "$src/src/mux"; then
  echo "FAIL: the pure codec includes an I/O header (above)"; bad=1
fi
undefined=$(nm -u -C "$@" | awk '/ U /{print $2}' | sort -u)
hits=$(echo "$undefined" | grep -E '^(asio::|SSL_|EVP_|OPENSSL_|CRYPTO_|spdlog::|fmt::|socket$|connect$|accept4?$|recv|send)' || true)
if [ -n "$hits" ]; then
  echo "FAIL: the pure codec references I/O symbols:"; echo "$hits"; bad=1
fi
echo "external symbols referenced by kiteline_proto (outside libstdc++/libc):"
echo "$undefined" | grep -vE '^(std::|operator |__cxa|__gxx|__dynamic_cast|_Unwind|__stack_chk|__asan|__ubsan|__tsan|__sanitizer|mem|str|__assert|abort|__libc|vtable for __cxxabiv1|typeinfo|__sancov|__cxa)' \
  | grep -vE '^(kiteline::|_GLOBAL_OFFSET_TABLE_|__dso_handle|operator|vtable)' \
  | grep -vE '^(fprintf|stderr|snprintf|vsnprintf|__errno_location|strtoull|__isoc|qsort|free|malloc|calloc|realloc)$' || true
exit $bad
