// connector::kite_public_url: where visitors reach a live kite, for the line the connector
// prints when a kite goes live ("kiteline connector: http://name:port/ is live (via relay ...)").
#pragma once

#include <string>
#include <string_view>

namespace kiteline::connector {

/// The public address of a kite from its label ("proto[-port]:name", as on_kite_live reports
/// it) and the relay it went live on ("host:port" or "[v6]:port"): the kite's own port when
/// the label has one, else the relay's (visitors reach a relay on the port its tunnels use).
/// http/http2/http3/websocket: "http://name[:port]/"; https: "https://name[:port]/" (the
/// port left out when it is the scheme's default, 80 or 443); raw and others: "name:port".
[[nodiscard]] std::string kite_public_url(std::string_view kite_label, std::string_view relay);

}  // namespace kiteline::connector
