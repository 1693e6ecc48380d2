#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace nocturne::trust {

// One operator vouching for another's key: an Ed25519 signature by the endorser over
// "ENDORSE:" + hex(subject public key) + ":" + decimal timestamp.
struct Endorsement {
    crypto::PublicKey endorser{};
    crypto::PublicKey subject{};
    std::int64_t timestamp = 0;  // Unix seconds
    crypto::Signature sig{};
};

std::string endorsement_message(const crypto::PublicKey& subject, std::int64_t timestamp);

Endorsement create_endorsement(const crypto::KeyPair& endorser, const crypto::PublicKey& subject,
                               std::int64_t timestamp);

// public_key_mismatch: made by someone else; wrong_subject: endorses another key; bad_signature.
std::error_code verify_endorsement(const Endorsement& endorsement,
                                   const crypto::PublicKey& endorser,
                                   const crypto::PublicKey& subject);

// The file `nocturne-agent endorse` writes and `enroll` reads:
//   {"type":"nocturne-endorsement","v":1,"endorser":hex,"operator":hex,"timestamp":n,"sig":hex}
// Parsing checks the signature, so a parsed endorsement is at least self-consistent.
std::string encode_endorsement_file(const Endorsement& endorsement);
result<Endorsement> parse_endorsement_file(std::string_view text);

}  // namespace nocturne::trust
