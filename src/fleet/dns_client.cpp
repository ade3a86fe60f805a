#include "fleet/dns_client.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/ping.hpp"

namespace kiteline::fleet {
namespace {

using clock = std::chrono::steady_clock;

// A socket that closes itself.
class fd_guard {
 public:
  explicit fd_guard(int fd) noexcept : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

struct sock_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
};

std::optional<sock_address> make_address(const std::string& ip, std::uint16_t port) {
  sock_address a;
  if (ip.find(':') != std::string::npos) {
    sockaddr_in6 s6{};
    s6.sin6_family = AF_INET6;
    s6.sin6_port = htons(port);
    if (::inet_pton(AF_INET6, ip.c_str(), &s6.sin6_addr) != 1) {
      return std::nullopt;
    }
    std::memcpy(&a.storage, &s6, sizeof s6);
    a.length = sizeof s6;
    a.family = AF_INET6;
  } else {
    sockaddr_in s4{};
    s4.sin_family = AF_INET;
    s4.sin_port = htons(port);
    if (::inet_pton(AF_INET, ip.c_str(), &s4.sin_addr) != 1) {
      return std::nullopt;
    }
    std::memcpy(&a.storage, &s4, sizeof s4);
    a.length = sizeof s4;
  }
  return a;
}

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

bool wait_for(int fd, short events, clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) {
      return true;
    }
    if (r == 0 || errno != EINTR) {
      return false;
    }
  }
}

// A non-blocking TCP connection to `a`, connected before `deadline`; -1 on failure.
int connect_tcp(const sock_address& a, clock::time_point deadline, std::string& error) {
  const int fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) != 0) {
    if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline)) {
      error = errno == EINPROGRESS ? "connect timed out" : std::strerror(errno);
      ::close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      error = std::strerror(err);
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

bool send_all(int fd, const std::uint8_t* data, std::size_t size, clock::time_point deadline) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

bool recv_exact(int fd, std::uint8_t* data, std::size_t size, clock::time_point deadline) {
  while (size > 0) {
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLIN, deadline)) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

bool send_framed(int fd, const std::vector<std::uint8_t>& message, clock::time_point deadline) {
  const std::array<std::uint8_t, 2> len{static_cast<std::uint8_t>(message.size() >> 8),
                                        static_cast<std::uint8_t>(message.size() & 0xff)};
  return send_all(fd, len.data(), len.size(), deadline) &&
         send_all(fd, message.data(), message.size(), deadline);
}

std::optional<std::vector<std::uint8_t>> recv_framed(int fd, clock::time_point deadline) {
  std::array<std::uint8_t, 2> len{};
  if (!recv_exact(fd, len.data(), len.size(), deadline)) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> msg((static_cast<std::size_t>(len[0]) << 8) | len[1]);
  if (!recv_exact(fd, msg.data(), msg.size(), deadline)) {
    return std::nullopt;
  }
  return msg;
}

std::uint16_t message_id(const std::vector<std::uint8_t>& m) {
  return m.size() < 2 ? 0 : static_cast<std::uint16_t>((m[0] << 8) | m[1]);
}

std::string unverified(const dns_server& server, const std::string& why) {
  return "answer from DNS server " + server.address + ":" + std::to_string(server.port) +
         " failed TSIG verification: " + why;
}

std::optional<dns_answer> exchange_tcp(const dns_server& server, const sock_address& a,
                                       const std::vector<std::uint8_t>& message,
                                       const tsig_key& key, clock::time_point deadline,
                                       std::string& error) {
  fd_guard fd(connect_tcp(a, deadline, error));
  if (fd.get() < 0) {
    return std::nullopt;
  }
  if (!send_framed(fd.get(), message, deadline)) {
    error = "TCP send failed";
    return std::nullopt;
  }
  auto reply = recv_framed(fd.get(), deadline);
  if (!reply) {
    error = "no TCP answer in time";
    return std::nullopt;
  }
  if (message_id(*reply) != message_id(message)) {
    error = "unreadable answer";
    return std::nullopt;
  }
  reply_verifier verify(key, message);
  std::string why;
  auto answer = verify.next(reply->data(), reply->size(), why);
  if (!answer) {
    error = unverified(server, why);
  }
  return answer;
}

}  // namespace

std::optional<dns_server> parse_dns_server(std::string_view text) {
  dns_server out;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return std::nullopt;
      }
      port = text.substr(close + 2);
    }
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  out.address = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  if (!make_address(out.address, out.port)) {
    return std::nullopt;
  }
  return out;
}

std::optional<dns_answer> exchange(const dns_server& server,
                                   const std::vector<std::uint8_t>& message, const tsig_key& key,
                                   std::chrono::milliseconds timeout, std::string& error) {
  const auto deadline = clock::now() + timeout;
  const auto a = make_address(server.address, server.port);
  if (!a) {
    error = "bad server address";
    return std::nullopt;
  }
  if (message.size() > 512) {
    return exchange_tcp(server, *a, message, key, deadline, error);
  }
  fd_guard fd(::socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 ||
      ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a->storage), a->length) != 0 ||
      ::send(fd.get(), message.data(), message.size(), 0) != static_cast<ssize_t>(message.size())) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::array<std::uint8_t, 4096> buf{};
  std::string refused;  // a reply with our id that did not verify: discarded, reported at the end
  while (wait_for(fd.get(), POLLIN, deadline)) {
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      error = std::strerror(errno);  // e.g. ECONNREFUSED: nothing listens there
      return std::nullopt;
    }
    const std::vector<std::uint8_t> got(buf.begin(), buf.begin() + n);
    if (message_id(got) != message_id(message)) {
      continue;  // not ours
    }
    reply_verifier verify(key, message);
    std::string why;
    auto answer = verify.next(got.data(), got.size(), why);
    if (!answer) {
      refused = unverified(server, why);
      continue;  // maybe forged: wait for a verified one until the deadline
    }
    if (answer->truncated) {
      return exchange_tcp(server, *a, message, key, deadline, error);
    }
    return answer;
  }
  error = refused.empty() ? "no answer in time" : refused;
  return std::nullopt;
}

std::optional<dns_answer> transfer(const dns_server& server,
                                   const std::vector<std::uint8_t>& query, const tsig_key& key,
                                   std::chrono::milliseconds timeout, std::string& error) {
  const auto deadline = clock::now() + timeout;
  const auto a = make_address(server.address, server.port);
  if (!a) {
    error = "bad server address";
    return std::nullopt;
  }
  fd_guard fd(connect_tcp(*a, deadline, error));
  if (fd.get() < 0) {
    return std::nullopt;
  }
  if (!send_framed(fd.get(), query, deadline)) {
    error = "TCP send failed";
    return std::nullopt;
  }
  dns_answer all;
  reply_verifier verify(key, query);
  for (int messages = 0; messages < 100000; ++messages) {
    auto reply = recv_framed(fd.get(), deadline);
    if (!reply) {
      error = "zone transfer cut short or too slow";
      return std::nullopt;
    }
    if (message_id(*reply) != message_id(query)) {
      error = "unreadable zone transfer message";
      return std::nullopt;
    }
    std::string why;
    auto part = verify.next(reply->data(), reply->size(), why);
    if (!part) {
      error = unverified(server, why);
      return std::nullopt;
    }
    if (messages == 0) {
      all.id = part->id;
      all.rcode = part->rcode;
      all.tsig_error = part->tsig_error;
    }
    if (part->rcode != 0 || part->tsig_error != 0) {
      all.rcode = part->rcode;
      all.tsig_error = part->tsig_error;
      if (!verify.complete()) {
        error = unverified(server, "the refusal is not signed");
        return std::nullopt;
      }
      return all;  // refused: the caller reports it
    }
    all.soa_count += part->soa_count;
    all.records.insert(all.records.end(), part->records.begin(), part->records.end());
    all.ns_names.insert(all.ns_names.end(), part->ns_names.begin(), part->ns_names.end());
    if (all.soa_count >= 2) {
      if (!verify.complete()) {
        error = unverified(server, "the last message is not signed");
        return std::nullopt;
      }
      return all;
    }
  }
  error = "zone transfer too long";
  return std::nullopt;
}

bool ping_relay(const std::string& address, std::uint16_t port, std::chrono::milliseconds timeout,
                std::string& uuid) {
  const auto deadline = clock::now() + timeout;
  const auto a = make_address(address, port);
  if (!a) {
    return false;
  }
  std::string error;
  fd_guard fd(connect_tcp(*a, deadline, error));
  if (fd.get() < 0) {
    return false;
  }
  const std::string_view req = wire::ping_request();
  if (!send_all(fd.get(), reinterpret_cast<const std::uint8_t*>(req.data()), req.size(),
                deadline)) {
    return false;
  }
  std::string got;
  std::array<char, 512> buf{};
  while (got.size() < 4096 && got.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n > 0) {
      got.append(buf.data(), static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd.get(), POLLIN, deadline)) {
        break;
      }
    } else {
      break;
    }
  }
  auto reply = wire::check_ping_reply(got);
  if (!reply) {
    return false;
  }
  uuid = reply.value().uuid;
  return true;
}

}  // namespace kiteline::fleet
