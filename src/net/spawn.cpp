#include "net/spawn.hpp"

#include <stdexcept>

namespace kiteline::net {

void log_exception(spdlog::logger& log, std::string_view what, const std::exception_ptr& e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    log.error("{}: {}", what, x.what());
  } catch (...) {
    log.error("{}: unknown exception", what);
  }
}

}  // namespace kiteline::net
