// Handshake, ping, CONNECT-preamble and error-page codecs against the pagekite.py captures in
// vectors/pagekite-py (README there): parse, verify, and reformat byte for byte.
#include <gtest/gtest.h>

#include "support/vectors.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "wire/handshake.hpp"
#include "wire/head.hpp"
#include "wire/kite_auth.hpp"
#include "wire/ping.hpp"

namespace kiteline::wire {
namespace {

namespace fs = std::filesystem;

using kiteline::test::read_vector;
const fs::path vectors_dir = kiteline::test::vectors_dir();
constexpr std::string_view pagekite_version = "1.5.2.201011";

/// Sorted files of `set` whose names end with `suffix` and contain `kind`.
std::vector<fs::path> files(std::string_view set, std::string_view kind, std::string_view suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(vectors_dir / set)) {
    const std::string name = e.path().filename().string();
    if (name.find(kind) != std::string::npos && name.ends_with(suffix)) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string head_of(std::string_view bytes) {
  const result<head_scan> scan = find_head_end(bytes, 16 * 1024);
  EXPECT_TRUE(scan.has_value());
  EXPECT_FALSE(scan->need_more());
  return std::string(bytes.substr(0, scan->end));
}

/// Minimal chunk reader for the test (independent of the frame decoder): an uncompressed
/// "<hex>\r\n<payload>" at `offset`.
std::string first_plain_chunk(std::string_view bytes, std::size_t offset) {
  const std::size_t eol = bytes.find("\r\n", offset);
  EXPECT_NE(eol, std::string_view::npos);
  const std::string size_line(bytes.substr(offset, eol - offset));
  EXPECT_EQ(size_line.find_first_not_of("0123456789abcdef"), std::string::npos) << size_line;
  const std::size_t size = std::stoul(size_line, nullptr, 16);
  EXPECT_LE(eol + 2 + size, bytes.size());
  return std::string(bytes.substr(eol + 2, size));
}

/// Header lines of a chunk payload (up to the first blank line) as header_fields.
std::vector<header_field> payload_fields(std::string_view payload) {
  std::vector<header_field> out;
  const std::size_t blank = payload.find("\r\n\r\n");
  EXPECT_NE(blank, std::string_view::npos);
  line_reader lines(payload.substr(0, blank + 2));
  std::string_view line;
  while (lines.next(line) && !line.empty()) {
    const std::optional<header_field> f = split_header_line(line);
    EXPECT_TRUE(f.has_value()) << line;
    out.push_back(*f);
  }
  return out;
}

std::string scenario_of(const fs::path& p) {
  return p.filename().string().substr(0, 2);
}

std::string secret_for(const std::string& scenario) {
  return scenario == "08" ? "wrong-secret" : "s3cret";
}

void expect_session_id(const std::string& id) {
  EXPECT_TRUE(std::regex_match(id, std::regex("^[0-9a-f]+:[0-9a-f]{40}$"))) << id;
}

/// Every kite signature verifies with its secret and fails with any byte changed.
void expect_signatures(const std::vector<kite_request>& kites, const std::string& scenario) {
  for (const kite_request& k : kites) {
    ASSERT_EQ(k.signature.size(), signature_length);
    EXPECT_NE(k.signature.front(), 't');
    EXPECT_TRUE(verify_kite_signature(secret_for(scenario), k)) << format_kite_line(k);
    if (scenario == "08") {
      EXPECT_FALSE(verify_kite_signature("s3cret", k));
    }
    for (std::size_t i = 0; i < k.signature.size(); ++i) {
      kite_request bad = k;
      bad.signature[i] = bad.signature[i] == '0' ? '1' : '0';
      EXPECT_FALSE(verify_kite_signature(secret_for(scenario), bad)) << i;
    }
    kite_request bad = k;
    bad.bsalt[0] = bad.bsalt[0] == '0' ? '1' : '0';
    EXPECT_FALSE(verify_kite_signature(secret_for(scenario), bad));
    bad = k;
    bad.domain += "x";
    EXPECT_FALSE(verify_kite_signature(secret_for(scenario), bad));
  }
}

/// find_head_end + parse on every prefix: need_more / missing_blank_line until the head is
/// complete, then the same result as for the whole head.
template <typename Parse>
void expect_every_split(std::string_view bytes, std::size_t head_len, Parse parse) {
  const auto whole = parse(bytes.substr(0, head_len));
  ASSERT_TRUE(whole.has_value());
  const std::size_t upto = std::min(bytes.size(), head_len + 64);
  std::string buffer;  // byte-by-byte accumulation, as a reader would do
  for (std::size_t n = 0; n <= upto; ++n) {
    if (n > 0) {
      buffer.push_back(bytes[n - 1]);
    }
    const std::string_view prefix = bytes.substr(0, n);
    const result<head_scan> scan = find_head_end(prefix, 16 * 1024);
    ASSERT_TRUE(scan.has_value());
    const result<head_scan> scan_buffered = find_head_end(buffer, 16 * 1024);
    ASSERT_TRUE(scan_buffered.has_value());
    ASSERT_EQ(*scan, *scan_buffered);
    const auto parsed = parse(prefix);
    if (n < head_len) {
      EXPECT_TRUE(scan->need_more()) << n;
      EXPECT_EQ(parsed.error(), errc::missing_blank_line) << n;
    } else {
      EXPECT_EQ(scan->end, head_len) << n;
      ASSERT_TRUE(parsed.has_value()) << n;
      EXPECT_EQ(*parsed, *whole) << n;
    }
  }
}

struct tunnel_capture {
  fs::path be2fe_path;
  std::string be2fe;
  std::string fe2be;
  std::string req_head;
  std::string resp_head;
  handshake_request req;
  handshake_response resp;
};

tunnel_capture load_tunnel(const fs::path& be2fe_path) {
  tunnel_capture t;
  t.be2fe_path = be2fe_path;
  std::string fe2be_name = be2fe_path.filename().string();
  fe2be_name.replace(fe2be_name.find("be2fe"), 5, "fe2be");
  t.be2fe = read_vector(be2fe_path);
  t.fe2be = read_vector(be2fe_path.parent_path() / fe2be_name);
  t.req_head = head_of(t.be2fe);
  t.resp_head = head_of(t.fe2be);
  auto req = parse_handshake_request(t.req_head);
  EXPECT_TRUE(req.has_value()) << be2fe_path << " " << req.error().message();
  if (req) {
    t.req = *req;
  }
  auto resp = parse_handshake_response(t.resp_head);
  EXPECT_TRUE(resp.has_value()) << be2fe_path << " " << resp.error().message();
  if (resp) {
    t.resp = *resp;
  }
  return t;
}

void expect_common_request(const tunnel_capture& t, bool zchunks) {
  EXPECT_TRUE(t.req.add_kites);
  EXPECT_EQ(t.req.zchunks, zchunks);
  EXPECT_FALSE(t.req.mobile);
  EXPECT_EQ(t.req.versions,
            (std::vector<std::string>{std::string(pagekite_version), std::string(pagekite_version)}));
  ASSERT_FALSE(t.req.kites.empty());
  EXPECT_EQ(format_handshake_request(t.req), t.req_head);  // byte-exact reformat
  for (const kite_request& k : t.req.kites) {
    EXPECT_EQ(k.bsalt.size(), 36U);
    EXPECT_TRUE(split_proto(k.proto).has_value()) << k.proto;
  }
}

void expect_common_response(const tunnel_capture& t) {
  EXPECT_TRUE(t.resp.zchunks);  // the reference FE offers ZChunks even to --nozchunks BEs
  EXPECT_TRUE(t.resp.websockets);
  EXPECT_TRUE(t.resp.add_kites);
  EXPECT_EQ(t.resp.protos, (std::vector<std::string>{"http", "https", "raw"}));
  EXPECT_EQ(t.resp.ports, (std::vector<std::string>{"27080"}));
  EXPECT_EQ(t.resp.raw_ports, (std::vector<std::string>{"virtual"}));
  expect_session_id(t.resp.session_id);
  EXPECT_EQ(t.resp.misc, std::optional<std::string>("motd="));
  EXPECT_EQ(format_handshake_response(t.resp), t.resp_head);  // byte-exact reformat
}

TEST(VectorsHandshake, NozchunksTunnelsFlowA) {
  const std::vector<fs::path> reqs = files("nozchunks", ".tunnel", ".be2fe.bin");
  ASSERT_GE(reqs.size(), 20U);
  std::map<std::string, std::string> round1_session;  // scenario -> session id of tunnel1
  std::size_t round2_count = 0;
  for (const fs::path& p : reqs) {
    SCOPED_TRACE(p.filename().string());
    const tunnel_capture t = load_tunnel(p);
    const std::string scenario = scenario_of(p);
    expect_common_request(t, false);
    expect_common_response(t);
    expect_signatures(t.req.kites, scenario);
    const bool round1 = p.filename().string().find(".tunnel1.") != std::string::npos;
    if (round1) {
      // First round: empty FSALT, every kite gets SignThis with a 't' token, in order.
      EXPECT_TRUE(t.req.replace.empty());
      ASSERT_EQ(t.resp.results.size(), t.req.kites.size());
      for (std::size_t i = 0; i < t.req.kites.size(); ++i) {
        EXPECT_TRUE(t.req.kites[i].fsalt.empty());
        EXPECT_EQ(t.resp.results[i].status, kite_status::sign_this);
        EXPECT_EQ(t.resp.results[i].kite, kite_key(t.req.kites[i]));
        EXPECT_EQ(t.resp.results[i].fsalt.size(), 36U);
        EXPECT_EQ(t.resp.results[i].fsalt.front(), 't');
      }
      round1_session[scenario] = t.resp.session_id;
    } else {
      ++round2_count;
      // Second round on a new connection: Replace with the first round's session id.
      ASSERT_TRUE(round1_session.count(scenario));
      EXPECT_EQ(t.req.replace, round1_session[scenario]);
      for (const kite_request& k : t.req.kites) {
        EXPECT_EQ(k.fsalt.size(), 36U);
        EXPECT_EQ(k.fsalt.front(), 't');
      }
      if (scenario == "08" || scenario == "09") {
        ASSERT_EQ(t.resp.results.size(), 1U);
        EXPECT_EQ(t.resp.results[0].status, kite_status::invalid);
        EXPECT_EQ(t.resp.results[0].kite, kite_key(t.req.kites[0]));
        EXPECT_EQ(t.resp.results[0].why, scenario == "08" ? "signature" : "unauthorized");
      } else {
        ASSERT_EQ(t.resp.results.size(), t.req.kites.size());
        for (std::size_t i = 0; i < t.req.kites.size(); ++i) {
          EXPECT_EQ(t.resp.results[i].status, kite_status::ok);
          EXPECT_EQ(t.resp.results[i].kite, kite_key(t.req.kites[i]));
        }
      }
    }
    expect_every_split(t.be2fe, t.req_head.size(),
                       [](std::string_view h) { return parse_handshake_request(h); });
    expect_every_split(t.fe2be, t.resp_head.size(),
                       [](std::string_view h) { return parse_handshake_response(h); });
  }
  EXPECT_GE(round2_count, 10U);
}

TEST(VectorsHandshake, ZchunksTunnelsFlowB) {
  const std::vector<fs::path> reqs = files("zchunks", ".tunnel", ".be2fe.bin");
  ASSERT_GE(reqs.size(), 7U);
  for (const fs::path& p : reqs) {
    SCOPED_TRACE(p.filename().string());
    const tunnel_capture t = load_tunnel(p);
    expect_common_request(t, true);
    expect_common_response(t);
    expect_signatures(t.req.kites, scenario_of(p));
    ASSERT_EQ(t.resp.results.size(), t.req.kites.size());
    for (std::size_t i = 0; i < t.req.kites.size(); ++i) {
      EXPECT_EQ(t.resp.results[i].status, kite_status::sign_this);
      EXPECT_EQ(t.resp.results[i].kite, kite_key(t.req.kites[i]));
    }

    // Round 2 travels in the first chunk after each head.
    const std::string kite_payload_bytes = first_plain_chunk(t.be2fe, t.req_head.size());
    const std::vector<header_field> be_fields = payload_fields(kite_payload_bytes);
    EXPECT_TRUE(has_handshake_fields(be_fields));
    const result<handshake_request> round2 = parse_kite_round(be_fields);
    ASSERT_TRUE(round2.has_value()) << round2.error().message();
    EXPECT_EQ(round2->versions, std::vector<std::string>{std::string(pagekite_version)});
    ASSERT_EQ(round2->kites.size(), t.req.kites.size());
    for (std::size_t i = 0; i < round2->kites.size(); ++i) {
      const kite_request& k = round2->kites[i];
      EXPECT_EQ(kite_key(k), kite_key(t.req.kites[i]));
      EXPECT_EQ(k.fsalt, t.resp.results[i].fsalt);  // signed with the SignThis token
    }
    expect_signatures(round2->kites, scenario_of(p));
    EXPECT_EQ(format_kite_round_payload(pagekite_version, round2->kites), kite_payload_bytes);

    const std::string result_payload = first_plain_chunk(t.fe2be, t.resp_head.size());
    const std::vector<header_field> fe_fields = payload_fields(result_payload);
    EXPECT_TRUE(has_handshake_fields(fe_fields));
    const result<handshake_response> results = parse_result_fields(fe_fields);
    ASSERT_TRUE(results.has_value()) << results.error().message();
    ASSERT_EQ(results->results.size(), t.req.kites.size());
    for (std::size_t i = 0; i < t.req.kites.size(); ++i) {
      EXPECT_EQ(results->results[i].status, kite_status::ok);
      EXPECT_EQ(results->results[i].kite, kite_key(t.req.kites[i]));
    }
    expect_session_id(results->session_id);
    EXPECT_NE(results->session_id, t.resp.session_id);  // a fresh id per round (§4.7)
    EXPECT_EQ(results->misc, std::optional<std::string>("motd="));
    EXPECT_EQ(format_result_payload(*results), result_payload);

    expect_every_split(t.be2fe, t.req_head.size(),
                       [](std::string_view h) { return parse_handshake_request(h); });
    expect_every_split(t.fe2be, t.resp_head.size(),
                       [](std::string_view h) { return parse_handshake_response(h); });
  }
}

TEST(VectorsHandshake, RawKiteProtoCarriesPort) {
  const tunnel_capture t =
      load_tunnel(vectors_dir / "nozchunks" / "10-raw-connect.tunnel2.be2fe.bin");
  ASSERT_EQ(t.req.kites.size(), 1U);
  EXPECT_EQ(t.req.kites[0].proto, "raw-22");
  EXPECT_EQ(t.req.kites[0].domain, "ssh.test");
  const result<proto_port> pp = split_proto(t.req.kites[0].proto);
  ASSERT_TRUE(pp.has_value());
  EXPECT_EQ(pp->base, "raw");
  EXPECT_EQ(pp->port, std::optional<std::uint16_t>(22));
}

TEST(VectorsHandshake, TlsTunnelPreamble) {
  for (const std::string_view set : {"nozchunks", "zchunks"}) {
    for (const fs::path& p : files(set, "12-tls-tunnel.connect", ".be2fe.bin")) {
      SCOPED_TRACE(p.string());
      const std::string be2fe = read_vector(p);
      const std::string preamble = format_connect_preamble("fe.test");
      EXPECT_EQ(be2fe.substr(0, preamble.size()), preamble);
      EXPECT_EQ(static_cast<unsigned char>(be2fe[preamble.size()]), 0x16U);  // ClientHello next
      std::string fe2be_name = p.filename().string();
      fe2be_name.replace(fe2be_name.find("be2fe"), 5, "fe2be");
      const std::string fe2be = read_vector(p.parent_path() / fe2be_name);
      const std::string_view established = connect_established_reply();
      EXPECT_EQ(fe2be.substr(0, established.size()), established);
      const result<head_scan> r = check_connect_reply(fe2be);
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->end, established.size());
      for (std::size_t n = 0; n < established.size(); ++n) {  // every prefix
        const result<head_scan> partial = check_connect_reply(fe2be.substr(0, n));
        ASSERT_TRUE(partial.has_value()) << n;
        EXPECT_TRUE(partial->need_more()) << n;
      }
    }
  }
}

TEST(VectorsHandshake, PingCaptures) {
  std::size_t count = 0;
  for (const std::string_view set : {"nozchunks", "zchunks"}) {
    for (const fs::path& p : files(set, ".ping", ".be2fe.bin")) {
      SCOPED_TRACE(p.string());
      const std::string req = read_vector(p);
      EXPECT_EQ(req, ping_request());
      EXPECT_TRUE(is_ping_request(req.substr(0, 64)));
      std::string fe2be_name = p.filename().string();
      fe2be_name.replace(fe2be_name.find("be2fe"), 5, "fe2be");
      const std::string reply = read_vector(p.parent_path() / fe2be_name);
      const result<ping_reply> r = check_ping_reply(reply);
      ASSERT_TRUE(r.has_value());
      EXPECT_TRUE(std::regex_match(r->uuid, std::regex("^[0-9a-f]{40}$"))) << r->uuid;
      EXPECT_FALSE(r->overloaded);
      EXPECT_EQ(format_ping_reply(r->uuid), reply);  // byte-identical
      ++count;
    }
  }
  // The visitor-side curl probe of scenario 13.
  const std::string v2fe = read_vector(vectors_dir / "nozchunks" / "13-no-backend-visitor.ping1.v2fe.bin");
  EXPECT_TRUE(is_ping_request(v2fe.substr(0, 64)));
  const std::string fe2v = read_vector(vectors_dir / "nozchunks" / "13-no-backend-visitor.ping1.fe2v.bin");
  const result<ping_reply> r = check_ping_reply(fe2v);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(format_ping_reply(r->uuid), fe2v);
  EXPECT_GE(count, 40U);
}

TEST(VectorsHandshake, VisitorsAreNotPings) {
  for (const fs::path& p : files("nozchunks", "-visitor.http", ".v2fe.bin")) {
    EXPECT_FALSE(is_ping_request(read_vector(p))) << p;
  }
}

std::string header_value(std::string_view head, std::string_view name) {
  line_reader lines(head);
  std::string_view line;
  while (lines.next(line) && !line.empty()) {
    const auto f = split_header_line(line);
    if (f && ascii_iequals(f->name, name)) {
      return std::string(f->value);
    }
  }
  return {};
}

TEST(VectorsHandshake, UnavailablePages) {
  const std::vector<std::string> pages = {
      "07-backend-killed-visitor.http3", "08-wrong-secret-visitor.http1",
      "09-unknown-kite-visitor.http1",   "13-no-backend-visitor.http1",
      "13-no-backend-visitor.http2",     "13-no-backend-visitor.http3"};
  for (const std::string& name : pages) {
    SCOPED_TRACE(name);
    const std::string visitor = read_vector(vectors_dir / "nozchunks" / (name + ".v2fe.bin"));
    const std::string page = read_vector(vectors_dir / "nozchunks" / (name + ".fe2v.bin"));
    const std::string uuid = header_value(page, "X-PageKite-UUID");
    EXPECT_EQ(uuid.size(), 40U);
    const std::string host = header_value(visitor, "Host");
    EXPECT_EQ(format_unavailable_page(uuid, "http", host, "fe"), page);
  }
  for (const std::string_view name :
       {"13-no-backend-visitor.connect1", "13-no-backend-visitor.connect2"}) {
    EXPECT_EQ(read_vector(vectors_dir / "nozchunks" / (std::string(name) + ".fe2v.bin")),
              connect_unavailable());
  }
  for (const std::string_view name :
       {"10-raw-connect-visitor.connect1", "11-https-connect-visitor.connect1"}) {
    const std::string fe2v = read_vector(vectors_dir / "nozchunks" / (std::string(name) + ".fe2v.bin"));
    EXPECT_TRUE(fe2v.starts_with(connect_established_reply())) << name;
  }
}

}  // namespace
}  // namespace kiteline::wire
