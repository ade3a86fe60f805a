#include "net/spawn.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <stdexcept>

namespace kiteline::net {
namespace {

struct captured {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> log;
  captured() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    sink->set_pattern("%l %v");
    log = std::make_shared<spdlog::logger>("spawn_test", sink);
  }
};

TEST(log_failure, logs_the_exception_text_after_what) {
  captured c;
  auto handler = log_failure(c.log, "relay r1: connector loop failed");
  handler(std::make_exception_ptr(std::runtime_error("boom")));
  EXPECT_EQ(c.out.str(), "error relay r1: connector loop failed: boom\n");
}

TEST(log_failure, names_an_exception_that_is_not_a_std_exception) {
  captured c;
  log_failure(c.log, "connection handler failed")(std::make_exception_ptr(42));
  EXPECT_EQ(c.out.str(), "error connection handler failed: unknown exception\n");
}

TEST(log_failure, a_coroutine_that_ended_normally_logs_nothing) {
  captured c;
  log_failure(c.log, "connection handler failed")(nullptr);
  EXPECT_EQ(c.out.str(), "");
}

}  // namespace
}  // namespace kiteline::net
