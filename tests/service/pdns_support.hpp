// The DNS authority of the --authdomain tests (issue 23 items 1-2): a real PowerDNS (pipe
// backend tests/support/pagekite_authority.py, which recomputes pagekite.py's signatures from
// its secrets table) on a loopback port the kernel picked, and the relay options that point
// kiteline at it. Shared by authdomain_test.cpp and quota_test.cpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace kiteline::hostile {

/// The zone the authority serves (kites are asked about as ....<kite>.auth.test).
inline const std::string auth_zone = "auth.test";

/// PowerDNS serving the pagekite authority zone on 127.0.0.1:port() (0 when it did not start).
class pdns_authority {
 public:
  pdns_authority();
  ~pdns_authority();
  pdns_authority(const pdns_authority&) = delete;
  pdns_authority& operator=(const pdns_authority&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  /// Sets the answer of the secrets table's `file:NAME` users, read at each query: "a a.b.c.d"
  /// or "cname ERR[-IPC-SECS].x.DAYS.CONNS.TAG" (see pagekite_authority.py).
  void set_answer(std::string_view name, std::string_view answer) const;
  void stop();

 private:
  test::temp_dir dir_{"pdns"};
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

/// A test with its own authority in dns_; skipped where PowerDNS is not installed.
class pdns_test : public testing::Test {
 protected:
  void SetUp() override;
  pdns_authority dns_;
};

/// --authdomain=auth.test --authdns=`dns` --authdns_timeout=2, then `more`.
[[nodiscard]] std::vector<std::string> auth_options(const std::string& dns,
                                                    std::vector<std::string> more = {});

}  // namespace kiteline::hostile
