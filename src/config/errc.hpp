// Error codes of configuration parsing where one function reports one problem (kiteline::failure carries the text shown at the option's origin; the parser collects diagnostics, config/diagnostic.hpp).
#pragma once

#include <system_error>

namespace kiteline::config {

/// Why one +flag or --service_cfg value is refused. Values are stable.
enum class errc {
  ok = 0,
  bad_flag = 1,         ///< a flag is unknown, holds a colon, or its value does not fit (check_flag)
  bad_service_cfg = 2,  ///< --service_cfg is not KITE[/PORT]:KEY:VALUE
  bad_port = 3,         ///< a port is not 1-65535
  bad_kite_name = 4,    ///< a kite name is not a valid domain name
};

/// The "kiteline.config" category.
const std::error_category& config_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), config_category()};
}

}  // namespace kiteline::config

template <>
struct std::is_error_code_enum<kiteline::config::errc> : std::true_type {};
