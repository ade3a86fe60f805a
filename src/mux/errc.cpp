#include "mux/errc.hpp"

#include <string>

namespace kiteline::mux {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.mux"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::wrong_role: return "only a relay session opens streams";
      case errc::too_many_streams: return "too many live streams";
      case errc::sid_space_exhausted: return "no free stream id";
      case errc::unknown_stream: return "unknown stream id";
      case errc::stream_read_closed: return "stream no longer carries local data";
      case errc::no_chunk_in_progress: return "chunk data without a chunk in progress";
      case errc::chunk_interrupted: return "new chunk before the previous one was complete";
      case errc::chunk_without_sid: return "stream chunk without SID";
      case errc::written_exceeds_delivered: return "more bytes written than delivered";
    }
    return "unknown kiteline.mux error";
  }
};
}  // namespace

const std::error_category& mux_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::mux
