#include "tls/key_store.hpp"

namespace kiteline::tls {

namespace {

class inprocess_key_store final : public key_store {
 public:
  std::optional<certified_key> load(const std::string& pem_file, std::string& error) override {
    pem_pair pair;
    if (!load_pem_pair(pem_file, pair, error)) {
      return std::nullopt;
    }
    certified_key out;
    out.key = std::shared_ptr<EVP_PKEY>(pair.key.release(), pkey_deleter{});
    for (auto& x : pair.chain) {
      out.chain.emplace_back(x.release(), x509_deleter{});
    }
    return out;
  }
  [[nodiscard]] bool isolated() const noexcept override { return false; }
};

}  // namespace

std::shared_ptr<key_store> make_inprocess_key_store() {
  return std::make_shared<inprocess_key_store>();
}

}  // namespace kiteline::tls
