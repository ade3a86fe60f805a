// kiteline_tunnel_load's command line (see the comment at the top of tunnel_load.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace kiteline_bench {

struct options {
  std::string host = "127.0.0.1";
  unsigned port = 0;
  std::size_t n = 10000;
  std::string secret;
  std::string domain = "load.test";
  std::size_t concurrency = 64;
  unsigned sources = 1;
  std::string sni;
  bool plain = false;
  std::size_t probe = 0;
  bool probing = true;
  std::size_t first = 0;
  bool hold = false;
  int probe_ms = 10;
  int ping_s = 116;
  int settle_s = 3;
  int max_seconds = 300;
  int round1_seconds = 240;  // then go on with the tunnels that are up (a relay that cannot take N)
  bool restart = true;
};

inline bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string k = a.substr(0, eq), v = eq == std::string::npos ? "" : a.substr(eq + 1);
    auto num = [&] { return std::strtoull(v.c_str(), nullptr, 10); };
    if (k == "--host") o.host = v;
    else if (k == "--port") o.port = static_cast<unsigned>(num());
    else if (k == "--n") o.n = num();
    else if (k == "--secret") o.secret = v;
    else if (k == "--domain") o.domain = v;
    else if (k == "--concurrency") o.concurrency = std::max<std::size_t>(1, num());
    else if (k == "--sources") o.sources = static_cast<unsigned>(num());
    else if (k == "--sni") o.sni = v;
    else if (k == "--plain") o.plain = true;
    else if (k == "--probe" && v == "none") o.probing = false;
    else if (k == "--probe") o.probe = num();
    else if (k == "--first") o.first = num();
    else if (k == "--hold") o.hold = true;
    else if (k == "--probe_ms") o.probe_ms = static_cast<int>(num());
    else if (k == "--ping") o.ping_s = static_cast<int>(num());
    else if (k == "--settle") o.settle_s = static_cast<int>(num());
    else if (k == "--max_seconds") o.max_seconds = static_cast<int>(num());
    else if (k == "--round1_seconds") o.round1_seconds = static_cast<int>(num());
    else if (k == "--no_restart") o.restart = false;
    else {
      std::fprintf(stderr, "unknown option %s (see the comment at the top of tunnel_load.cpp)\n",
                   a.c_str());
      return false;
    }
  }
  const bool loopback = o.host.starts_with("127.") || o.host == "::1";
  if (o.port == 0 || o.secret.empty() || !loopback || (o.probing && o.probe >= o.n) ||
      o.sources > 250) {
    std::fprintf(stderr, "need --port, --secret, a loopback --host, --probe < --n\n");
    return false;
  }
  return true;
}

}  // namespace kiteline_bench
