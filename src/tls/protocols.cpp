// The --tls_protocols grammar (docs/tls.md): entries applied left to right to a version set,
// then reduced to the one contiguous min..max range OpenSSL can express.
#include "tls/protocols.hpp"

#include <bitset>
#include <optional>

#include "core/text.hpp"

namespace kiteline::tls {
namespace {

using version_set = std::bitset<tls_version_count>;

constexpr std::array names{"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

std::size_t index(tls_version v) { return static_cast<std::size_t>(v); }
tls_version at(std::size_t i) { return static_cast<tls_version>(i); }

version_set default_set(bool legacy) {
  version_set s;
  s.set(index(tls_version::tls1_2)).set(index(tls_version::tls1_3));
  if (legacy) {
    s.set(index(tls_version::tls1)).set(index(tls_version::tls1_1));
  }
  return s;
}

/// The versions an entry name stands for; nullopt when unknown.
std::optional<version_set> lookup(std::string_view lower) {
  version_set s;
  if (lower == "all") {
    return default_set(true);
  }
  if (lower == "sslv3") {
    return s.set(index(tls_version::ssl3));
  }
  if (lower == "tlsv1" || lower == "tlsv1.0") {
    return s.set(index(tls_version::tls1));
  }
  if (lower == "tlsv1.1") {
    return s.set(index(tls_version::tls1_1));
  }
  if (lower == "tlsv1.2") {
    return s.set(index(tls_version::tls1_2));
  }
  if (lower == "tlsv1.3") {
    return s.set(index(tls_version::tls1_3));
  }
  return std::nullopt;
}

std::vector<std::string> entries_of(std::string_view list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list) {
    if (c == ' ' || c == '\t' || c == ',') {
      if (!cur.empty()) {
        out.push_back(std::move(cur));
        cur.clear();
      }
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) {
    out.push_back(std::move(cur));
  }
  return out;
}

std::string list_names(const version_set& s) {
  std::string out;
  for (std::size_t i = 0; i < tls_version_count; ++i) {
    if (s.test(i)) {
      out += (out.empty() ? "" : ", ") + std::string(names[i]);
    }
  }
  return out;
}

/// Reduces `enabled` (non-empty) to its highest contiguous run; warns about what is cut off.
void to_range(const version_set& enabled, tls_protocol_range& out) {
  std::size_t hi = tls_version_count - 1;
  while (!enabled.test(hi)) {
    --hi;
  }
  std::size_t lo = hi;
  while (lo > 0 && enabled.test(lo - 1)) {
    --lo;
  }
  out.min = at(lo);
  out.max = at(hi);
  if (lo == 0) {
    return;
  }
  version_set below;
  for (std::size_t i = 0; i + 1 < lo; ++i) {
    below.set(i, enabled.test(i));
  }
  if (below.none()) {
    return;
  }
  out.warnings.push_back(
      list_names(below) + " left out: OpenSSL negotiates one contiguous range of versions "
      "(minimum..maximum) and the list leaves out " + std::string(names[lo - 1]) +
      "; effective range " + std::string(names[lo]) + ".." + std::string(names[hi]) +
      " (enable " + std::string(names[lo - 1]) + " too to keep " + list_names(below) + ")");
}

}  // namespace

std::string_view display_name(tls_version v) noexcept { return names[index(v)]; }

tls_protocol_range resolve_tls_protocols(std::string_view list, bool legacy,
                                         const tls_support& support) {
  tls_protocol_range out;
  const auto entries = entries_of(list);
  version_set enabled;
  if (entries.empty()) {
    enabled = default_set(legacy);
  } else {
    if (legacy) {
      out.warnings.push_back("--tls_legacy is ignored: the --tls_protocols list decides (write "
                             "`+tlsv1 +tlsv1.1` in the list to allow TLS 1.0/1.1)");
    }
    const char first = entries.front().front();
    if (first == '+' || first == '-') {
      enabled = default_set(false);
    }
    version_set named_on;   // explicitly named with + or without prefix
    version_set named_off;  // explicitly named with -
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::string& e = entries[i];
      const char sign = (e.front() == '+' || e.front() == '-') ? e.front() : '\0';
      const std::string name = to_lower(sign == '\0' ? std::string_view(e)
                                                     : std::string_view(e).substr(1));
      const auto set = lookup(name);
      if (!set) {
        out.errors.push_back("unknown protocol `" + e +
                             "` (known: all, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, each with "
                             "an optional + or - prefix)");
        continue;
      }
      if (sign != '-' && set->test(index(tls_version::ssl3))) {
        out.errors.push_back("`" + e + "`: SSLv3 cannot be enabled: OpenSSL 3 has no SSLv3 "
                             "support at all (and SSLv3 is broken: POODLE); remove it");
        continue;
      }
      if (sign == '\0' && i > 0) {
        out.warnings.push_back(
            "`" + e + "` has no +/- prefix: kiteline ADDS it to the entries before it, but "
            "Apache's SSLProtocol would let it replace them (`TLSv1.2 TLSv1.3` means TLSv1.3 "
            "only there); write `+" + e + "` to make the meaning explicit");
      }
      const bool is_all = name == "all";
      if (sign == '-') {
        const version_set clash = *set & named_on;
        if (clash.any() && !is_all) {
          out.warnings.push_back("contradictory entries: " + list_names(clash) +
                                 " enabled earlier and disabled by `" + e +
                                 "`; the later entry wins (" + list_names(clash) + " off)");
        }
        if (!is_all) {
          named_off |= *set;
        }
        enabled &= ~*set;
      } else {
        const version_set clash = *set & named_off;
        if (clash.any()) {
          out.warnings.push_back("contradictory entries: " + list_names(clash) +
                                 " disabled earlier and enabled again by `" + e +
                                 "`; the later entry wins (" + list_names(clash) + " on)");
        }
        if (!is_all) {
          named_on |= *set;
        }
        enabled |= *set;
      }
    }
  }
  for (std::size_t i = 0; i < tls_version_count; ++i) {
    if (enabled.test(i) && !support.supports(at(i))) {
      out.warnings.push_back("the linked " + support.library + " cannot do " +
                             std::string(names[i]) + "; left out");
      enabled.reset(i);
    }
  }
  if (!out.errors.empty()) {
    return out;
  }
  if (enabled.none()) {
    out.errors.push_back("`" + std::string(list) + "` enables no protocol (the result is empty; "
                         "e.g. `all -tlsv1 -tlsv1.1` is TLSv1.2..TLSv1.3)");
    return out;
  }
  to_range(enabled, out);
  return out;
}

}  // namespace kiteline::tls
