#include "connector/handshake.hpp"

#include <algorithm>

#include "connector/kite_signing.hpp"
#include "core/text.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/head.hpp"

namespace kiteline::connector {

handshake_verdict round_outcome::verdict() const noexcept {
  if (ok > 0) {
    return handshake_verdict::live;
  }
  if (any_invalid) {
    return handshake_verdict::rejected;
  }
  return any_duplicate ? handshake_verdict::duplicate : handshake_verdict::no_kite;
}

handshake::handshake(handshake_params p) : p_(std::move(p)), session_id_(p_.session_id) {}

std::vector<wire::kite_request> handshake::sign(std::size_t round) {
  std::vector<wire::kite_request> out;
  kite_index_.clear();
  for (std::size_t i = 0; i < p_.services.size(); ++i) {
    const config::service& s = p_.services[i];
    if (!s.enabled) {
      continue;
    }
    wire::kite_request probe;
    probe.proto = kite_proto(s);
    probe.domain = s.kite_name;
    probe.bsalt = p_.bsalts[i];
    std::string fsalt;
    if (auto it = fsalts_.find(wire::kite_key(probe)); it != fsalts_.end()) {
      fsalt = it->second;
    }
    const std::size_t salt = 2 * i + round;
    out.push_back(sign_kite(s, p_.bsalts[i], fsalt,
                            make_salt8(salt < p_.salts.size() ? p_.salts[salt] : 0)));
    kite_index_[wire::kite_key(out.back())] = i;
  }
  return out;
}

handshake::step handshake::start() {
  round_no_ = 0;
  out_ = wire::format_handshake_request(make_request(sign(0), p_.nozchunks, session_id_));
  state_ = state::writing;
  return step::write;
}

handshake::step handshake::on_written() {
  buf_.clear();
  head_end_ = 0;
  state_ = state::reading;
  return step::read;
}

std::span<const std::byte> handshake::leftover() const noexcept {
  return std::span<const std::byte>(buf_).subspan(std::min(head_end_, buf_.size()));
}

handshake::step handshake::finish(handshake_verdict v) {
  verdict_ = v;
  state_ = state::done;
  return step::done;
}

handshake::step handshake::on_bytes(std::span<const std::byte> in) {
  if (state_ != state::reading) {
    return state_ == state::done ? step::done : step::read;
  }
  buf_.insert(buf_.end(), in.begin(), in.end());
  const auto scan = wire::find_head_end(as_text(buf_), p_.max_head);
  if (!scan) {
    error_ = scan.error();
    return finish(handshake_verdict::bad_reply);
  }
  if (scan->need_more()) {
    return step::read;
  }
  head_end_ = scan->end;
  return on_head(as_text(buf_).substr(0, head_end_));
}

handshake::step handshake::on_head(std::string_view head) {
  auto resp = wire::parse_handshake_response(head);
  if (!resp) {
    error_ = resp.error();
    const std::string_view text = as_text(buf_);
    refusal_line_ = std::string(text.substr(0, std::min(text.find('\r'), std::size_t{80})));
    return finish(handshake_verdict::refused);
  }
  zchunks_ = resp->zchunks;
  if (!resp->session_id.empty()) {
    session_id_ = resp->session_id;
  }
  if (round_no_ == 0) {
    fsalts_.clear();
    for (const auto& r : resp->results) {
      if (r.status == wire::kite_status::sign_this) {
        fsalts_[r.kite] = r.fsalt;
      }
    }
    if (!fsalts_.empty()) {
      round_no_ = 1;
      if (resp->add_kites && !p_.force_flow_a) {
        // Flow B (§4.8): the signed kites in one NOOP chunk inside the tunnel.
        flow_b_ = true;
        out_ = wire::frame_control_payload(
            wire::format_kite_round_payload(kiteline_pagekite_version, sign(1)));
        state_ = state::await_result;
        return step::start_link;
      }
      // Flow A (§4.5): close, reconnect and send the signed request.
      state_ = state::reconnecting;
      return step::reconnect;
    }
  }
  round_ = classify(*resp);
  return finish(round_.verdict());
}

handshake::step handshake::on_reconnected() {
  if (state_ != state::reconnecting) {
    return state_ == state::done ? step::done : step::read;
  }
  buf_.clear();
  head_end_ = 0;
  out_ = wire::format_handshake_request(make_request(sign(1), p_.nozchunks, session_id_));
  state_ = state::writing;
  return step::write;
}

handshake::step handshake::on_result_fields(std::span<const wire::header_field> fields) {
  if (state_ != state::await_result) {
    return state_ == state::done ? step::done : step::read;
  }
  if (!wire::has_handshake_fields(fields)) {
    return step::start_link;
  }
  auto r = wire::parse_result_fields(fields);
  if (!r) {
    error_ = r.error();
    return finish(handshake_verdict::bad_result);
  }
  round_ = classify(*r);
  if (!r->session_id.empty()) {
    session_id_ = r->session_id;
  }
  return finish(round_.verdict());
}

round_outcome handshake::classify(const wire::handshake_response& r) const {
  round_outcome out;
  out.session_id = r.session_id;
  out.quota_kb = r.quota;
  out.qconns = r.qconns;
  out.qdays = r.qdays;
  out.ips_per_sec = r.ips_per_sec;
  for (const auto& res : r.results) {
    kite_outcome k;
    k.result = res;
    if (auto it = kite_index_.find(res.kite); it != kite_index_.end()) {
      k.service = it->second;
      switch (res.status) {
        case wire::kite_status::ok: ++out.ok; break;
        case wire::kite_status::invalid: out.any_invalid = true; break;
        case wire::kite_status::duplicate: out.any_duplicate = true; break;
        case wire::kite_status::ssl_ok:
        case wire::kite_status::sign_this: break;
      }
    }
    out.kites.push_back(std::move(k));
  }
  return out;
}

}  // namespace kiteline::connector
