// The access log of the real kiteline binary on both roles: a request through a kite gives one
// line on the relay (key=value) and one on the connector (JSON), with the same kite, method,
// path, status and exact byte counts; --accesslog=syslog sends it to a syslog socket the test
// opens; a file access log renamed away is reopened on SIGHUP. Also the connector's URL line.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/syslog_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace kiteline::hostile {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The lines of `path` that contain `needle`.
std::vector<std::string> lines_with(const std::string& path, std::string_view needle) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

/// "k=v; k2=\"v 2\"" -> map (quoted values unescaped: \" \\ \xHH).
std::map<std::string, std::string> parse_text(std::string_view line) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    const auto eq = line.find('=', i);
    if (eq == std::string_view::npos) {
      break;
    }
    const std::string key(line.substr(i, eq - i));
    std::string value;
    std::size_t j = eq + 1;
    if (j < line.size() && line[j] == '"') {
      for (++j; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          if (line[j] == 'x' && j + 2 < line.size()) {
            value += static_cast<char>(hex_digit_value(line[j + 1]) * 16 +
                                       hex_digit_value(line[j + 2]));
            j += 2;
            continue;
          }
        }
        value += line[j];
      }
      ++j;  // the closing quote
    } else {
      const auto end = line.find("; ", j);
      const std::size_t n = end == std::string_view::npos ? line.size() - j : end - j;
      value = std::string(line.substr(j, n));
      j = end == std::string_view::npos ? line.size() : end;
    }
    out[key] = value;
    i = j;
    if (line.substr(i, 2) == "; ") {
      i += 2;
    }
  }
  return out;
}

/// A flat JSON object of strings, numbers and nulls -> map (strings unescaped; numbers and
/// null as written). Fails the test on anything else.
std::map<std::string, std::string> parse_json(std::string_view s) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  const auto expect = [&](char c) {
    EXPECT_TRUE(i < s.size() && s[i] == c) << "expected '" << c << "' at " << i << " in " << s;
    ++i;
  };
  const auto string = [&]() {
    std::string v;
    expect('"');
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        ++i;
        switch (s[i]) {
          case 'n': v += '\n'; break;
          case 'r': v += '\r'; break;
          case 't': v += '\t'; break;
          case 'u': {
            v += static_cast<char>(hex_digit_value(s[i + 3]) * 16 + hex_digit_value(s[i + 4]));
            i += 4;
            break;
          }
          default: v += s[i];
        }
        ++i;
        continue;
      }
      v += s[i++];
    }
    expect('"');
    return v;
  };
  expect('{');
  while (i < s.size() && s[i] != '}') {
    const std::string key = string();
    expect(':');
    if (s[i] == '"') {
      out[key] = string();
    } else {
      const auto end = s.find_first_of(",}", i);
      out[key] = std::string(s.substr(i, end - i));
      i = end;
    }
    if (s[i] == ',') {
      ++i;
    }
  }
  expect('}');
  EXPECT_EQ(i, s.size()) << s;
  return out;
}

/// Each expected key is present with its value.
void expect_fields(const std::map<std::string, std::string>& got,
                   const std::vector<std::pair<std::string, std::string>>& want) {
  for (const auto& [key, value] : want) {
    const auto it = got.find(key);
    ASSERT_NE(it, got.end()) << "no field " << key;
    EXPECT_EQ(it->second, value) << "field " << key;
  }
}

struct exchange {
  std::string request;
  std::string response;
  std::uint16_t local_port = 0;
};

/// GET `path` with Host `host` through the relay; reads the whole response (the origin
/// closes), then closes.
exchange visit(std::uint16_t relay_port, const std::string& host, const std::string& path) {
  exchange x;
  const int fd = connect_loopback(relay_port);
  EXPECT_GE(fd, 0);
  if (fd < 0) {
    return x;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  x.local_port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  x.request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  EXPECT_TRUE(send_all(fd, x.request));
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      break;
    }
    x.response.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return x;
}

TEST(AccessLogService, BothRolesLogTheRequestWithExactBytes) {
  test::temp_dir dir("accesslog-svc");
  const std::string relay_log = dir.file("relay-access.log");
  const std::string conn_log = dir.file("connector-access.json");
  test::http_origin origin;
  relay_process relay({{"--accesslog=" + relay_log}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), "al.test", origin.port(),
                         {"--accesslog=" + conn_log, "--accesslog_format=json"});
  ASSERT_TRUE(conn.ok()) << conn.proc().tail();
  // The line for people, once: the kite's URL on the relay's port.
  const std::string url = "http://al.test:" + std::to_string(relay.port()) + "/";
  ASSERT_TRUE(conn.proc().wait_output({"kiteline connector: " + url + " is live (via relay "}));
  EXPECT_EQ(conn.proc().count(" is live (via relay "), 1U);

  const exchange x = visit(relay.port(), "al.test", "/bytes/1000");
  ASSERT_EQ(x.response.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << x.response.substr(0, 200);
  ASSERT_TRUE(test::wait_for([&] { return !lines_with(relay_log, "kite=al.test").empty(); },
                             "the relay's access-log line"));
  ASSERT_TRUE(test::wait_for([&] { return !lines_with(conn_log, "\"al.test\"").empty(); },
                             "the connector's access-log line"));

  const auto relay_lines = lines_with(relay_log, "kite=al.test");
  ASSERT_EQ(relay_lines.size(), 1U) << read_file(relay_log);
  const auto r = parse_text(relay_lines[0]);
  expect_fields(r, {{"role", "relay"},
                    {"rip", "127.0.0.1"},
                    {"rport", std::to_string(x.local_port)},
                    {"kite", "al.test"},
                    {"proto", "http"},
                    {"port", std::to_string(relay.port())},
                    {"method", "GET"},
                    {"path", "/bytes/1000"},
                    {"status", "200"},
                    {"bytes_in", std::to_string(x.request.size())},
                    {"bytes_out", std::to_string(x.response.size())},
                    {"tunnel", "127.0.0.1"}});
  EXPECT_EQ(r.at("t").size(), 29U) << r.at("t");  // 2026-12-07T09:45:01.250+00:00
  EXPECT_EQ(r.count("note"), 0U);

  const auto conn_lines = lines_with(conn_log, "\"al.test\"");
  ASSERT_EQ(conn_lines.size(), 1U) << read_file(conn_log);
  const auto c = parse_json(conn_lines[0]);
  expect_fields(c, {{"role", "connector"},
                    {"remote_ip", "127.0.0.1"},
                    {"remote_port", std::to_string(x.local_port)},
                    {"kite", "al.test"},
                    {"proto", "http"},
                    {"method", "GET"},
                    {"path", "/bytes/1000"},
                    {"status", "200"},
                    {"bytes_in", std::to_string(x.request.size())},
                    {"bytes_out", std::to_string(x.response.size())},
                    {"tunnel", "127.0.0.1:" + std::to_string(relay.port())},
                    {"note", "null"}});

  // A kite nobody serves: the relay's own 503, logged with its status and a note.
  const exchange miss = visit(relay.port(), "nobody.test", "/x?a=\"b\"");
  ASSERT_EQ(miss.response.rfind("HTTP/1.1 503", 0), 0U) << miss.response.substr(0, 200);
  ASSERT_TRUE(test::wait_for([&] { return !lines_with(relay_log, "kite=nobody.test").empty(); },
                             "the relay's line for the refused visitor"));
  const auto m = parse_text(lines_with(relay_log, "kite=nobody.test")[0]);
  EXPECT_EQ(m.at("status"), "503");
  EXPECT_EQ(m.at("path"), "/x?a=\"b\"");
  EXPECT_EQ(m.at("bytes_in"), std::to_string(miss.request.size()));
  EXPECT_EQ(m.at("bytes_out"), std::to_string(miss.response.size()));
  EXPECT_EQ(m.at("tunnel"), "-");
  EXPECT_EQ(m.at("note"), "unavailable: no tunnel");
}

TEST(AccessLogService, SyslogGetsOneDatagramPerVisitor) {
  test::syslog_socket log;
  ASSERT_TRUE(log.ok());
  // The children inherit it.
  ::setenv("KITELINE_SYSLOG_SOCKET", log.path().c_str(), 1);
  test::http_origin origin;
  relay_process relay({{"--accesslog=syslog", "--accesslog_format=json"}});
  ::unsetenv("KITELINE_SYSLOG_SOCKET");
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), "sl.test", origin.port());
  ASSERT_TRUE(conn.ok()) << conn.proc().tail();
  const exchange x = visit(relay.port(), "sl.test", "/bytes/10");
  ASSERT_EQ(x.response.rfind("HTTP/1.1 200 OK\r\n", 0), 0U);
  const std::string dgram = log.receive_until("\"sl.test\"");
  ASSERT_FALSE(dgram.empty()) << "no access-log datagram for sl.test";
  EXPECT_EQ(dgram.rfind("<30>", 0), 0U) << dgram;  // daemon.info
  EXPECT_NE(dgram.find(" kiteline-access[" + std::to_string(relay.proc().pid()) + "]: {"),
            std::string::npos)
      << dgram;
  const auto j = parse_json(dgram.substr(dgram.find(": {") + 2));
  EXPECT_EQ(j.at("path"), "/bytes/10");
  EXPECT_EQ(j.at("status"), "200");
  EXPECT_EQ(j.at("bytes_out"), std::to_string(x.response.size()));
}

TEST(AccessLogService, FileIsReopenedOnSighupAfterARename) {
  test::temp_dir dir("accesslog-rotate");
  const std::string path = dir.file("access.log");
  test::http_origin origin;
  relay_process relay({{"--accesslog=" + path}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), "rot.test", origin.port());
  ASSERT_TRUE(conn.ok()) << conn.proc().tail();
  (void)visit(relay.port(), "rot.test", "/bytes/1");
  ASSERT_TRUE(test::wait_for([&] { return !lines_with(path, "path=/bytes/1;").empty(); },
                             "the first line"));
  std::filesystem::rename(path, path + ".1");
  ASSERT_EQ(::kill(relay.proc().pid(), SIGHUP), 0);
  ASSERT_TRUE(test::wait_for([&] { return std::filesystem::exists(path); },
                             "the access log opened again under its name"));
  (void)visit(relay.port(), "rot.test", "/bytes/2");
  ASSERT_TRUE(test::wait_for([&] { return !lines_with(path, "path=/bytes/2;").empty(); },
                             "the next line in the new file"));
  EXPECT_TRUE(lines_with(path, "path=/bytes/1;").empty());
  EXPECT_EQ(lines_with(path + ".1", "path=/bytes/1;").size(), 1U);
  EXPECT_TRUE(lines_with(path + ".1", "path=/bytes/2;").empty());
  EXPECT_TRUE(relay.proc().alive());
}

}  // namespace
}  // namespace kiteline::hostile
