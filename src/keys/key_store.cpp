#include "keys/key_store.hpp"

namespace kiteline::keys {

namespace {

class inprocess_key_store final : public key_store {
 public:
  outcome<tls::certified_key> load(const std::string& pem_file) override {
    return tls::load_certified_key(pem_file);
  }
  [[nodiscard]] bool isolated() const noexcept override { return false; }
};

}  // namespace

std::shared_ptr<key_store> make_inprocess_key_store() {
  return std::make_shared<inprocess_key_store>();
}

}  // namespace kiteline::keys
