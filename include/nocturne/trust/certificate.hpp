#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/trust/endorsement.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::trust {

// An operator's proof of membership: its key, endorsed by enough trusted operators. Published as
// a `cert` record signed by the operator itself at prefix_key("cert", operator_id); the
// endorsements carry the trust, the record signature only binds the fields together.
struct TrustCertificate {
    std::string network;
    std::string operator_id;  // operator_id_of(public_key)
    crypto::PublicKey public_key{};
    std::string label;
    std::vector<Endorsement> endorsements;  // each one's subject is public_key
    int max_agents = 5;
    std::int64_t created_at = 0;  // Unix seconds
    std::int64_t expires_at = 0;
};

// An operator authorising one of its agents (a node key) in slot agent_index. The record is
// signed by the operator's key, which is what makes it a certificate; it lives at
// prefix_key("agent", operator_id) with the slot as the record slot, so the responsible nodes hold
// at most one live certificate per slot, and a newer one (higher seq) replaces the older.
//
// The agent countersigns (agent_sig over agent_consent_message()): without it, any operator could
// claim any node key as its agent and, by superseding that slot, strip the node of its standing.
struct AgentCertificate {
    std::string network;
    std::string operator_id;
    crypto::PublicKey operator_key{};  // the record's author
    crypto::PublicKey agent_key{};
    int agent_index = 0;
    crypto::Signature agent_sig{};
    std::uint64_t seq = 0;
    std::int64_t created_at = 0;  // the record's created / expires
    std::int64_t expires_at = 0;
};

// What the agent signs: "AGENT:" + network + ":" + operator_id + ":" + index + ":" + seq.
std::string agent_consent_message(std::string_view network, std::string_view operator_id, int index,
                                  std::uint64_t seq);

inline constexpr std::size_t max_endorsements_per_certificate = 32;

// Payload JSON for the cert record, and back. from_record checks the record kind, that the
// author is the certified key, the operator id derivation, and that the record does not outlive
// the certificate; the endorsements' signatures are TrustValidator::evaluate's business.
std::string certificate_payload(const TrustCertificate& cert);
result<TrustCertificate> certificate_from_record(const wire::Record& record);
// The whole certificate as a signed record, ready to publish.
result<wire::Record> sign_certificate(const TrustCertificate& cert, const crypto::KeyPair& op,
                                      std::uint64_t seq = 1);

std::string agent_certificate_payload(const AgentCertificate& cert);
result<AgentCertificate> agent_certificate_from_record(const wire::Record& record);
// Signs an agent certificate for `agent` in slot `index` (with the agent's countersignature),
// valid from `now` for `lifetime_s`.
result<wire::Record> sign_agent_certificate(const std::string& network, const crypto::KeyPair& op,
                                            const crypto::KeyPair& agent, int index,
                                            std::int64_t now, std::int64_t lifetime_s,
                                            std::uint64_t seq);

}  // namespace nocturne::trust
