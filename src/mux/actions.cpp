#include "mux/actions.hpp"

namespace kiteline::mux {

wire::chunk_headers outgoing_headers::view() const noexcept {
  wire::chunk_headers h;
  h.noop = noop;
  h.sid = sid;
  h.proto = proto;
  h.host = host;
  h.port = port;
  h.rip = rip;
  h.rport = rport;
  h.rtls = rtls;
  h.eof = eof;
  if (ping) {
    h.ping = std::string_view(*ping);
  }
  if (pong) {
    h.pong = std::string_view(*pong);
  }
  h.skb = skb;
  return h;
}

}  // namespace kiteline::mux
