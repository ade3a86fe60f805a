#include "tls/openssl_error.hpp"

#include <openssl/err.h>

namespace kiteline::tls {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ::ERR_get_error()) != 0) {
    char buf[256];
    ::ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out;
}

}  // namespace kiteline::tls
