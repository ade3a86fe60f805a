// The messages between the network process and the key process (one SOCK_SEQPACKET datagram
// per request and per response; native byte order, both ends are the same binary).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiteline::keys::key_protocol {

enum class op : std::uint32_t {
  /// key_id = id chosen by the client, param = index of the PEM file (argv order). Reply: the
  /// certificate chain as [u32 count] then per certificate [u32 length][DER], leaf first.
  load = 1,
  /// RSA private encryption (signing) of the payload with padding `param` (RSA_PKCS1_PADDING
  /// for a DigestInfo, RSA_NO_PADDING for a PSS-encoded block). Reply: the signature.
  rsa_private_encrypt = 2,
  /// RSA private decryption of the payload with padding `param`. Reply: the plaintext.
  rsa_private_decrypt = 3,
  /// ECDSA over the payload (a digest). Reply: the DER ECDSA-Sig-Value.
  ecdsa_sign = 4,
  /// Forget key_id. Reply: empty.
  unload = 5,
  /// Reply: [u32 prctl(PR_GET_DUMPABLE)][u32 pid] (tests).
  status = 6,
};

struct request_head {
  std::uint32_t op = 0;
  std::uint32_t key_id = 0;
  std::uint32_t param = 0;
  std::uint32_t length = 0;  ///< payload bytes following the head
  /// The CPU the requesting thread runs on (-1: unknown). The channel's thread in the key
  /// process moves to that CPU, so a request is a hand-off on one CPU (the requester sleeps,
  /// the key thread runs) instead of a wake-up of another CPU, which costs several times more
  /// on a virtual machine.
  std::int32_t cpu = -1;
};

struct response_head {
  std::uint32_t status = 0;  ///< 0 = ok (payload = result), 1 = error (payload = message)
  std::uint32_t length = 0;
};

/// Upper bound of one datagram (a certificate chain is the largest).
inline constexpr std::size_t max_message = 200 * 1024;

/// The first channel's file descriptor in the key process (then 4, 5, ...).
inline constexpr int first_channel_fd = 3;

}  // namespace kiteline::keys::key_protocol
