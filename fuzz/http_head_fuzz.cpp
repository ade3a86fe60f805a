// libFuzzer target for the http/ head scanner: the head end and its prefix property, the line
// split, the request-line split and the field-line split (each checked against what it must
// rebuild), and the Content-Length / Transfer-Encoding helpers on every field value.
#include "http/head.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace kiteline::http;  // NOLINT(google-build-using-namespace): the module under test

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_head_end(std::string_view in) {
  const std::size_t end = find_head_end(in);
  if (end != std::string_view::npos) {
    require(end >= 2 && end <= in.size() && in[end - 1] == '\n');
  }
  // A prefix gives "need more" or the same end (the streaming reader's guarantee).
  if (in.size() > 512) {
    return;
  }
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t e = find_head_end(in.substr(0, k));
    require(e == std::string_view::npos || e == end);
  }
}

void check_field_line(std::string_view l) {
  const field_line f = parse_field_line(l);
  switch (f.error) {
    case field_error::none: {
      require(is_token(f.f.name) && l.substr(0, f.f.name.size()) == f.f.name);
      require(l[f.f.name.size()] == ':');
      const std::string_view v = f.f.value;
      require(v.empty() ||
              (v.front() != ' ' && v.front() != '\t' && v.back() != ' ' && v.back() != '\t'));
      require(l.find(v, f.f.name.size() + 1) != std::string_view::npos);
      // The value helpers never crash and keep their promises.
      const auto n = parse_content_length(v, std::uint64_t{1} << 62);
      require(!n || *n <= (std::uint64_t{1} << 62));
      transfer_codings te;
      te.add(v);
      const bool after = te.after_chunked;
      te.add(v);
      require(!after || te.after_chunked);  // once set, it stays
      (void)list_contains(v, "close");
      break;
    }
    case field_error::obs_fold:
      require(!l.empty() && (l.front() == ' ' || l.front() == '\t'));
      break;
    case field_error::no_colon:
      require(l.find(':') == std::string_view::npos);
      break;
    case field_error::bad_name:
      require(!is_token(l.substr(0, l.find(':'))));
      break;
  }
}

void check_lines(std::string_view in) {
  std::size_t pos = 0;
  bool first = true;
  for (auto l = next_line(in, pos); l; l = next_line(in, pos)) {
    require(l->next > pos && l->next <= in.size() && in[l->next - 1] == '\n');
    require(l->content.find('\n') == std::string_view::npos);
    require(in.substr(pos, l->content.size()) == l->content);
    if (first) {
      const request_line r = split_request_line(l->content);
      std::string rebuilt(r.method);
      if (r.has_target) {
        rebuilt.append(" ").append(r.target);
      }
      if (r.has_version) {
        rebuilt.append(" ").append(r.version);
      }
      require(rebuilt == l->content);
      require(r.method.find(' ') == std::string_view::npos);
      require(r.target.find(' ') == std::string_view::npos);
      if (const auto minor = parse_http1_version(r.version)) {
        require(*minor >= 0 && *minor <= 9);
      }
      (void)is_request_target(r.target, false);
      first = false;
    } else {
      check_field_line(l->content);
    }
    pos = l->next;
  }
  // The line reader sees the same lines, plus the unterminated rest.
  line_reader reader(in);
  std::string_view line;
  std::size_t count = 0;
  while (reader.next(line)) {
    ++count;
    require(line.find('\n') == std::string_view::npos);
  }
  require(count <= in.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_head_end(in);
  check_lines(in);
  return 0;
}
