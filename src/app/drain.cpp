#include "app/drain.hpp"

#include <csignal>

#include <unistd.h>

namespace kiteline::app {

bool drain_control::begin(int sig) {
  if (finished_) {
    log_.info("drain over, stopping");
    return false;
  }
  if (started_) {
    log_.info("signal {} during the drain: stopping at once", sig);
    return false;
  }
  if (sig != SIGTERM || grace_.count() == 0) {
    log_.info("signal {} received, stopping", sig);
    return false;
  }
  started_ = true;
  log_.info("SIGTERM received: draining for up to {} s (another SIGTERM or a SIGINT stops at "
            "once)",
            grace_.count());
  return true;
}

void drain_control::finished() noexcept {
  finished_ = true;
  ::kill(::getpid(), SIGTERM);
}

}  // namespace kiteline::app
