#include "keys/key_reload.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls/client_auth.hpp"

namespace kiteline::keys {

namespace {

std::vector<std::uint8_t> der_of(X509* x) {
  const int n = ::i2d_X509(x, nullptr);
  std::vector<std::uint8_t> der(static_cast<std::size_t>(n > 0 ? n : 0));
  unsigned char* p = der.data();
  if (n > 0) {
    ::i2d_X509(x, &p);
  }
  return der;
}

}  // namespace

file_stamp stamp_of(const std::string& path, int dir_fd) {
  struct stat st {};
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if ((dir_fd >= 0 ? ::fstatat(dir_fd, base.c_str(), &st, 0) : ::stat(path.c_str(), &st)) != 0) {
    return {};
  }
  return file_stamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                    static_cast<std::int64_t>(st.st_size),
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                        static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

certificate_reloader::certificate_reloader(std::shared_ptr<key_store> keys,
                                           tls::protocol_policy policy, std::string ca_file,
                                           std::string client_ca,
                                           std::shared_ptr<spdlog::logger> log)
    : keys_(std::move(keys)),
      policy_(std::move(policy)),
      ca_file_(std::move(ca_file)),
      client_ca_(std::move(client_ca)),
      log_(std::move(log)) {}

certificate_reloader::~certificate_reloader() {
  for (const auto& s : slots_) {
    if (s.dir_fd >= 0) {
      ::close(s.dir_fd);
    }
  }
}

outcome<std::shared_ptr<asio::ssl::context>> certificate_reloader::build(
    const std::string& pem_file, tls::certified_key& pair, bool strict) {
  auto loaded = keys_->load(pem_file);  // the key match is checked where the key is
  if (!loaded) {
    return loaded.error();
  }
  pair = std::move(*loaded);
  if (auto problem = tls::check_certificate(pair, ca_file_); !problem.empty()) {
    if (strict) {
      return failure(errc::certificate_refused, problem);
    }
    log_->warn("certificate {} (serial {}): {}", pem_file, tls::serial_hex(pair.leaf()), problem);
  }
  auto ctx = tls::make_server_context(pair, policy_);
  if (ctx && !client_ca_.empty()) {
    if (outcome<void> asked = tls::request_client_certificates((*ctx)->native_handle(), client_ca_);
        !asked) {
      return asked.error();
    }
  }
  return ctx;
}

outcome<void> certificate_reloader::add(tls::endpoint_set& set, const std::string& name,
                                        const std::string& pem_file) {
  slot s;
  s.pem_file = pem_file;
  // The directory, not the file: certificate tools replace the file (rename), and a path
  // lookup would fail after --chroot. O_PATH needs no read permission.
  const auto slash = pem_file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : pem_file.substr(0, slash + 1);
  s.dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  s.stamp = stamp_of(pem_file, s.dir_fd);
  tls::certified_key pair;
  auto ctx = build(pem_file, pair, false);
  if (!ctx) {
    if (s.dir_fd >= 0) {
      ::close(s.dir_fd);
    }
    return ctx.error();
  }
  s.serial = tls::serial_hex(pair.leaf());
  s.leaf_der = der_of(pair.leaf());
  s.target = &set.add(name, std::move(*ctx));
  log_->info("tls endpoint {}: serial {} valid until {} (key {})", name, s.serial,
             tls::not_after_text(pair.leaf()), keys_->isolated() ? "in the key process" : "in-process");
  slots_.push_back(std::move(s));
  return {};
}

void certificate_reloader::reload(bool forced) {
  for (auto& s : slots_) {
    const file_stamp now = stamp_of(s.pem_file, s.dir_fd);
    if (!forced && now == s.stamp) {
      continue;
    }
    // Remember the stamp whatever the outcome: a refused file is tried again when it changes
    // again (a half-written pair is refused, the finished one is taken) or on SIGHUP.
    s.stamp = now;
    const std::string& name = s.target->name();
    tls::certified_key pair;
    auto ctx = build(s.pem_file, pair, true);
    if (!ctx) {
      log_->warn("certificate reload for {} refused: {} (kept serial {})", name,
                 ctx.error().message(), s.serial);
      continue;
    }
    auto der = der_of(pair.leaf());
    if (der == s.leaf_der) {
      log_->info("certificate reload for {}: unchanged (serial {})", name, s.serial);
      continue;
    }
    const std::string old = s.serial;
    s.serial = tls::serial_hex(pair.leaf());
    s.leaf_der = std::move(der);
    s.target->replace_context(std::move(*ctx));
    log_->info("certificate reload for {}: serial {} installed (was {}), valid until {}", name,
               s.serial, old, tls::not_after_text(pair.leaf()));
  }
}

}  // namespace kiteline::keys
