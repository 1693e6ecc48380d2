#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/record.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::trust {

// One trusted operator's signature on a statement about another operator: a revocation here, a
// quarantine or its lift (quarantine.hpp). Such statements count with enough of them.
struct RevocationSignature {
    crypto::PublicKey signer{};
    crypto::Signature sig{};
};

// The removal of an operator, signed by at least revocation_threshold trusted operators over
// "REVOKE:" + operator_id + ":" + decimal timestamp + ":" + reason (the reason last, so any text
// is unambiguous). Published as a `revocation` record at prefix_key("revocation", operator_id),
// authored by one of the signers.
struct RevocationCertificate {
    std::string network;
    std::string operator_id;  // the revoked operator
    std::string reason;
    std::int64_t timestamp = 0;
    std::vector<RevocationSignature> signatures;
};

// One signer's part, as the file `nocturne-agent revoke sign` writes.
struct RevocationShare {
    std::string network;
    std::string operator_id;
    std::string reason;
    std::int64_t timestamp = 0;
    RevocationSignature signature;
};

inline constexpr std::size_t max_reason_bytes = 512;
inline constexpr std::size_t max_revocation_signatures = 64;

// 1-512 bytes without control characters: a reason ends up in logs and on terminals.
bool is_valid_reason(std::string_view reason) noexcept;
// The signatures of a threshold statement as its record payload carries them, and back. Reading
// checks the syntax and that `author` is among the signers (public_key_mismatch otherwise), not
// the signatures: TrustValidator verifies those of trusted signers only, so that a statement
// signed by 64 throwaway keys costs no verification.
nlohmann::json signatures_json(const std::vector<RevocationSignature>& signatures);
result<std::vector<RevocationSignature>> read_signatures(const nlohmann::json& array,
                                                         const crypto::PublicKey& author);

std::string revocation_message(std::string_view operator_id, std::int64_t timestamp,
                               std::string_view reason);
RevocationSignature sign_revocation(const crypto::KeyPair& signer, std::string_view operator_id,
                                    std::int64_t timestamp, std::string_view reason);
// bad_signature when it does not verify; no trust judgement (see TrustValidator).
std::error_code verify_revocation_signature(const RevocationSignature& signature,
                                            std::string_view operator_id, std::int64_t timestamp,
                                            std::string_view reason);

RevocationCertificate create_revocation(std::string network, std::string operator_id,
                                        std::string reason, std::int64_t timestamp,
                                        const std::vector<const crypto::KeyPair*>& signers);

// Share files. Parsing checks the signature.
std::string encode_revocation_share(const RevocationShare& share);
result<RevocationShare> parse_revocation_share(std::string_view text);
// All shares must name the same network, operator, timestamp and reason (value_out_of_range).
result<RevocationCertificate> combine_revocation_shares(const std::vector<RevocationShare>& shares);

std::string revocation_payload(const RevocationCertificate& revocation);
// Checks the kind, the reason's syntax, and that the author is one of the signers. The signatures
// are TrustValidator::validate_revocation's business (trusted signers only).
result<RevocationCertificate> revocation_from_record(const wire::Record& record);
result<wire::Record> sign_revocation_record(const RevocationCertificate& revocation,
                                            const crypto::KeyPair& author, std::int64_t now);

}  // namespace nocturne::trust
