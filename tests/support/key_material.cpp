#include "support/key_material.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "support/tls_client.hpp"

namespace kiteline::test {

std::string kiteline_binary() { return KITELINE_BINARY; }

// --- TLS probe -------------------------------------------------------------------------------

probe_result tls_probe(std::uint16_t port, const std::string& sni, int tls_version,
                       const std::string& sigalgs) {
  tls_client_options o;
  o.min_version = tls_version;
  o.max_version = tls_version;
  o.sni = sni;
  o.sigalgs = sigalgs;
  const auto h = tls_handshake(port, o);
  probe_result r;
  r.ok = h.ok;
  r.serial = h.serial;
  r.sigalg = h.sigalg;
  r.version = h.version == TLS1_3_VERSION   ? "TLSv1.3"
              : h.version == TLS1_2_VERSION ? "TLSv1.2"
                                            : std::to_string(h.version);
  r.error = h.error;
  return r;
}

// --- child relay -----------------------------------------------------------------------------

child_kiteline::child_kiteline(std::string role, std::vector<std::string> args,
                               const std::string& ready)
    : role_(std::move(role)), logfile_(dir_.file(role_ + ".log")) {
  // `timeout` bounds the child's life even if the test dies; it keeps its own process group.
  std::vector<std::string> full{"/usr/bin/timeout", "-s", "KILL",          "600",
                                kiteline_binary(),  role_, "--clean", "--logfile=" + logfile_};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : full) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // Read standard output until the ready line (bounded): poll() waits for each piece.
  std::string text;
  const auto deadline = clock::now() + test_timeout();
  while (true) {
    const auto at = text.find(ready);
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      ready_line_ = text;
      break;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
    pollfd p{out[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      break;
    }
    char buf[256];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
}

child_kiteline::~child_kiteline() {
  if (pid_ <= 0) {
    return;
  }
  // pid_ is `timeout`; kiteline is its child. SIGTERM kiteline (clean stop), then reap.
  for (pid_t p : child_pids(pid_, role_)) {
    ::kill(p, SIGTERM);
  }
  (void)reap_child(pid_, std::chrono::seconds(10));
}

std::string child_kiteline::log() const { return read_file(logfile_); }

testing::AssertionResult child_kiteline::wait_for_log(const std::string& text,
                                                      milliseconds timeout) {
  auto r = wait_for([&] { return log().find(text) != std::string::npos; }, timeout, text);
  if (!r) {
    r << "\nlog:\n" << log();
  }
  return r;
}

testing::AssertionResult child_kiteline::wait_for_log_count(const std::string& text,
                                                            std::size_t n) {
  auto count = [&] {
    const std::string l = log();
    std::size_t c = 0;
    for (auto at = l.find(text); at != std::string::npos; at = l.find(text, at + 1)) {
      ++c;
    }
    return c;
  };
  auto r = wait_for([&] { return count() >= n; }, text);
  if (!r) {
    r << "\nlog:\n" << log();
  }
  return r;
}

namespace {
std::vector<std::string> with_front(std::vector<std::string> front,
                                    const std::vector<std::string>& args) {
  front.insert(front.end(), args.begin(), args.end());
  return front;
}
}  // namespace

child_relay::child_relay(std::vector<std::string> args)
    : child_kiteline("frontend",
                     with_front({"--host=127.0.0.1", "--ports=0",
                                 "--domain=http,https,raw:*.test:s3cret"},
                                args),
                     "ports=") {
  const auto at = ready_line().find("ports=");
  if (at != std::string::npos) {
    port_ = static_cast<std::uint16_t>(std::atoi(ready_line().c_str() + at + 6));
  }
}

child_connector::child_connector(std::vector<std::string> args)
    : child_kiteline("backend", std::move(args), " live on relay ") {}

std::vector<pid_t> child_pids(pid_t parent, const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
      continue;
    }
    const std::string stat = read_file(e.path().string() + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) {
      continue;
    }
    std::istringstream rest(stat.substr(close_paren + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent) {
      continue;
    }
    std::string cmdline = read_file(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) {
      out.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return out;
}

std::size_t scan_memory(pid_t pid, const std::vector<std::vector<std::uint8_t>>& needles,
                        std::string& where, std::uint64_t& bytes_scanned) {
  bytes_scanned = 0;
  std::vector<bool> found(needles.size(), false);
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const int mem = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) {
    where = "cannot open /proc/PID/mem";
    return 0;
  }
  std::size_t longest = 0;
  for (const auto& n : needles) {
    longest = std::max(longest, n.size());
  }
  std::vector<std::uint8_t> buf;
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    std::string range;
    std::string perms;
    in >> range >> perms;
    if (perms.empty() || perms[0] != 'r' || line.find("[vvar]") != std::string::npos) {
      continue;
    }
    const auto dash = range.find('-');
    std::uint64_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uint64_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    // A relay has no 1 GiB mapping of its own; the sanitizers' shadow memory does (terabytes
    // of reserved zero pages): not scanned. The in-process control run shows the heap is.
    if (hi - lo > (std::uint64_t{1} << 30)) {
      continue;
    }
    // Read in 1 MiB windows overlapping by the longest needle.
    while (lo < hi) {
      const std::uint64_t len = std::min<std::uint64_t>(hi - lo, 1 << 20);
      buf.resize(len);
      const ssize_t n = ::pread(mem, buf.data(), len, static_cast<off_t>(lo));
      if (n <= 0) {
        break;
      }
      bytes_scanned += static_cast<std::uint64_t>(n);
      const auto end = buf.begin() + n;
      for (std::size_t i = 0; i < needles.size(); ++i) {
        if (!found[i] &&
            std::search(buf.begin(), end, std::boyer_moore_horspool_searcher(
                                              needles[i].begin(), needles[i].end())) != end) {
          found[i] = true;
          if (where.empty()) {
            where = "needle " + std::to_string(i) + " in " + line;
          }
        }
      }
      if (lo + len >= hi) {
        break;
      }
      lo += len - std::min<std::uint64_t>(len, longest);
    }
  }
  ::close(mem);
  return static_cast<std::size_t>(std::count(found.begin(), found.end(), true));
}

}  // namespace kiteline::test
