#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace nocturne::wire {

// Domain-separation prefixes: a signature made for one purpose never verifies for another (the
// handshake's is net::handshake_domain).
inline constexpr std::string_view record_domain = "nocturne/record/v1";

// {"pk": hex, "body": "<json text>", "sig": hex}: the signed body travels as the exact bytes that
// were signed, and the signature is checked before the body is parsed. Records and the handshake's
// AUTH share this shape and differ in their domain prefix.
struct SignedBlob {
    crypto::PublicKey public_key{};
    std::string body;
    crypto::Signature sig{};
};

// Bytes covered by the signature: domain, a NUL separator, then the body.
std::string signing_bytes(std::string_view domain, std::string_view body);

SignedBlob sign_blob(std::string_view domain, std::string body, const crypto::KeyPair& keys);

nlohmann::json blob_to_json(const SignedBlob& blob);

// Strict shape check (exactly pk, body, sig) and signature verification. The body is returned
// unparsed; callers parse it with their own limits.
result<SignedBlob> verify_blob(const nlohmann::json& object, std::string_view domain,
                               std::size_t max_body_bytes);
// The same shape check without the signature check: for bytes this node verified before and kept
// itself, whose integrity its store guards (see decode_stored_record).
result<SignedBlob> read_verified_blob(const nlohmann::json& object, std::size_t max_body_bytes);

}  // namespace nocturne::wire
