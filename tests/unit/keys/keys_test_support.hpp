// Test helpers for the keys unit tests: PEM pair files and a logger whose lines can be read.
#pragma once

#include <memory>
#include <sstream>
#include <string>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "support/certificates.hpp"
#include "support/temp_dir.hpp"

namespace kiteline::keys::test {

using kiteline::test::cert_pem;
using kiteline::test::key_pem;
using kiteline::test::temp_dir;
using kiteline::test::test_key;

/// key + certificate (serial `serial`, valid now, name fe.test) as one PEM text.
inline std::string pair_pem(const test_key& key, long serial) {
  return key_pem(key) + cert_pem(key, serial, std::chrono::hours(-1), std::chrono::hours(24));
}

/// A logger writing "level message" lines into a string stream.
struct text_log {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> log;
  text_log() {
    log = std::make_shared<spdlog::logger>(
        "keys-test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    log->set_pattern("%l %v");
    log->set_level(spdlog::level::debug);
  }
  /// Everything logged since the last take().
  std::string take() {
    std::string s = out.str();
    out.str({});
    return s;
  }
};

}  // namespace kiteline::keys::test
