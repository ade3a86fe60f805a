#include "fleet/names.hpp"

namespace kiteline::fleet {
namespace {

bool ends_with_label(std::string_view name, std::string_view zone) {
  return name.size() > zone.size() + 1 && name.substr(name.size() - zone.size()) == zone &&
         name[name.size() - zone.size() - 1] == '.';
}

}  // namespace

std::string record_name(std::string_view kite, std::string_view zone) {
  if (kite == zone || ends_with_label(kite, zone)) {
    return std::string(kite);
  }
  std::string out(kite);
  out += '.';
  out += zone;
  return out;
}

std::string pool_name(std::string_view zone) {
  std::string out = "fe.";
  out += zone;
  return out;
}

}  // namespace kiteline::fleet
