// Turns the OpenSSL error queue into a readable message (tls::errc lives here too).
#pragma once

#include <string>

namespace kiteline::tls {

/// Drains the calling thread's OpenSSL error queue into one line ("" if empty).
std::string drain_openssl_errors();

}  // namespace kiteline::tls
