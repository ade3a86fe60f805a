// relay::visitor_session: a visitor's life on the relay: sniff its first bytes, then route it
// into a tunnel (moving it to the tunnel's worker), terminate TLS for it, hand a tunnel request
// to the tunnel_acceptor, or answer with a canned refusal (wire/reject).
#pragma once

#include "net/asio.hpp"
#include "relay/kite_registry.hpp"
#include "relay/server.hpp"
#include "sniff/classify.hpp"
#include "tls/server_context.hpp"
#include "tls/transport.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiteline::relay {

/// The visitor job of one relay: stateless apart from the relay it belongs to, so one object
/// serves every visitor on every worker. Its coroutines take their arguments by value.
class visitor_session {
 public:
  /// `srv` must outlive every coroutine started here (the relay owns this object).
  explicit visitor_session(server::impl& srv) noexcept : srv_(srv) {}

  /// Serves one visitor accepted on `worker` at listening `port` from `peer`:`peer_port`:
  /// reads under --visitor_timeout until sniff::classify decides (`buf`: bytes read already,
  /// e.g. after a CONNECT), then routes it. `via_tls`: `t` is a TLS session this relay
  /// terminated (TLS inside it is refused). Runs on `worker`, the transport's executor.
  /// `forwarded`: it came through the fleet's peer port (relay/peer_forward.hpp), so a kite
  /// not held here is refused, never forwarded again.
  net::awaitable<void> run(std::size_t worker, tls::transport t, std::uint16_t port,
                           std::vector<std::byte> buf, bool via_tls, std::string peer,
                           std::uint16_t peer_port, bool forwarded = false);

 private:
  /// An HTTP CONNECT from a visitor (raw kites, https on 443, pagekite.py --fe_certname).
  net::awaitable<void> connect(std::size_t worker, tls::transport t, std::uint16_t port,
                               std::vector<std::byte> buf, sniff::classification c,
                               std::string peer, std::uint16_t peer_port, bool forwarded);
  /// TLS terminated here for a --tls_endpoint; then run() again on the decrypted stream.
  net::awaitable<void> terminate_tls(std::size_t worker, tls::transport t, std::uint16_t port,
                                     std::vector<std::byte> buf, const tls::endpoint* ep,
                                     std::string peer, std::uint16_t peer_port);

  /// The stream-opening headers of a routed visitor, owned (mux::stream_open holds views).
  struct owned_open {
    std::string proto;
    std::string host;
    std::uint32_t port = 0;
    std::string rip;
    std::uint32_t rport = 0;
    bool rtls = false;
    [[nodiscard]] mux::stream_open view() const {
      return mux::stream_open{proto, host, port, rip, rport, rtls};
    }
  };
  /// Hands a visitor to the tunnel `r`, moving the socket to the tunnel's worker if needed.
  void dispatch_stream(std::size_t worker, tls::transport t, const route& r, owned_open info,
                       std::vector<std::byte> first);

  server::impl& srv_;
};

}  // namespace kiteline::relay
