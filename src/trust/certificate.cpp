#include <nocturne/core/hex.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <algorithm>

namespace nocturne::trust {
namespace {

result<nlohmann::json> payload_json(const wire::Record& record) {
    return wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                            wire::default_limits.max_json_depth);
}

}  // namespace

std::string certificate_payload(const TrustCertificate& cert) {
    nlohmann::json endorsements = nlohmann::json::array();
    for (const auto& e : cert.endorsements) {
        endorsements.push_back(
            {{"endorser", to_hex(e.endorser)}, {"timestamp", e.timestamp}, {"sig", to_hex(e.sig)}});
    }
    nlohmann::json j = {{"network", cert.network},
                        {"operator_id", cert.operator_id},
                        {"public_key", to_hex(cert.public_key)},
                        {"label", cert.label},
                        {"endorsements", endorsements},
                        {"max_agents", cert.max_agents},
                        {"created_at", cert.created_at},
                        {"expires_at", cert.expires_at}};
    return wire::to_compact_json(j);
}

result<TrustCertificate> certificate_from_record(const wire::Record& record) {
    if (record.kind != wire::RecordKind::cert) return make_error_code(errc::unknown_record_kind);
    auto json = payload_json(record);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    TrustCertificate c;
    c.network = r.string("network", wire::max_identifier_bytes);
    c.operator_id = r.string("operator_id", wire::max_identifier_bytes);
    c.public_key = r.hex_fixed<32>("public_key");
    c.label = r.string("label", 64);
    const auto* endorsements = r.array("endorsements", max_endorsements_per_certificate);
    c.max_agents = static_cast<int>(r.int64("max_agents", 1, wire::max_agent_index + 1));
    c.created_at = r.int64("created_at", 0, INT64_MAX);
    c.expires_at = r.int64("expires_at", 0, INT64_MAX);
    if (auto ec = r.finish()) return ec;
    if (!is_valid_label(c.label)) return make_error_code(errc::value_out_of_range);
    if (c.public_key != record.author) return make_error_code(errc::public_key_mismatch);
    if (c.operator_id != operator_id_of(c.public_key)) return make_error_code(errc::key_mismatch);
    if (c.expires_at <= c.created_at || record.expires > c.expires_at) {
        return make_error_code(errc::ttl_out_of_range);
    }
    for (const auto& item : *endorsements) {
        wire::ObjectReader er(item);
        Endorsement e;
        e.endorser = er.hex_fixed<32>("endorser");
        e.subject = c.public_key;
        e.timestamp = er.int64("timestamp", 0, INT64_MAX);
        e.sig = er.hex_fixed<64>("sig");
        if (auto ec = er.finish()) return ec;
        // Signatures are checked by TrustValidator::evaluate, and only those of endorsers it
        // trusts: verifying every claimed endorsement here would let anyone make us spend 32
        // Ed25519 verifications per certificate.
        c.endorsements.push_back(e);
    }
    return c;
}

result<wire::Record> sign_certificate(const TrustCertificate& cert, const crypto::KeyPair& op,
                                      std::uint64_t seq) {
    if (op.public_key() != cert.public_key) return make_error_code(errc::public_key_mismatch);
    const auto lifetime =
        std::min(cert.expires_at - cert.created_at, wire::max_ttl_seconds(wire::RecordKind::cert));
    return wire::sign_record({wire::RecordKind::cert, seq, cert.created_at,
                              cert.created_at + lifetime, certificate_payload(cert)},
                             op);
}

std::string agent_consent_message(std::string_view network, std::string_view operator_id, int index,
                                  std::uint64_t seq) {
    std::string m = "AGENT:";
    m.append(network).append(":").append(operator_id).append(":");
    m.append(std::to_string(index)).append(":").append(std::to_string(seq));
    return m;
}

std::string agent_certificate_payload(const AgentCertificate& cert) {
    nlohmann::json j = {{"network", cert.network},
                        {"operator_id", cert.operator_id},
                        {"agent_key", to_hex(cert.agent_key)},
                        {"agent_index", cert.agent_index},
                        {"agent_sig", to_hex(cert.agent_sig)}};
    return wire::to_compact_json(j);
}

result<AgentCertificate> agent_certificate_from_record(const wire::Record& record) {
    if (record.kind != wire::RecordKind::agent_cert) {
        return make_error_code(errc::unknown_record_kind);
    }
    auto json = payload_json(record);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    AgentCertificate c;
    c.network = r.string("network", wire::max_identifier_bytes);
    c.operator_id = r.string("operator_id", wire::max_identifier_bytes);
    c.agent_key = r.hex_fixed<32>("agent_key");
    c.agent_index = static_cast<int>(r.int64("agent_index", 0, wire::max_agent_index));
    c.agent_sig = r.hex_fixed<64>("agent_sig");
    if (auto ec = r.finish()) return ec;
    c.operator_key = record.author;
    if (c.operator_id != operator_id_of(c.operator_key)) {
        return make_error_code(errc::key_mismatch);
    }
    const auto consent = agent_consent_message(c.network, c.operator_id, c.agent_index, record.seq);
    if (!crypto::verify(c.agent_key,
                        {reinterpret_cast<const std::uint8_t*>(consent.data()), consent.size()},
                        c.agent_sig)) {
        return make_error_code(errc::bad_signature);
    }
    c.seq = record.seq;
    c.created_at = record.created;
    c.expires_at = record.expires;
    return c;
}

result<wire::Record> sign_agent_certificate(const std::string& network, const crypto::KeyPair& op,
                                            const crypto::KeyPair& agent, int index,
                                            std::int64_t now, std::int64_t lifetime_s,
                                            std::uint64_t seq) {
    AgentCertificate c;
    c.network = network;
    c.operator_key = op.public_key();
    c.operator_id = operator_id_of(c.operator_key);
    c.agent_key = agent.public_key();
    c.agent_index = index;
    const auto consent = agent_consent_message(network, c.operator_id, index, seq);
    c.agent_sig =
        agent.sign({reinterpret_cast<const std::uint8_t*>(consent.data()), consent.size()});
    return wire::sign_record(
        {wire::RecordKind::agent_cert, seq, now, now + lifetime_s, agent_certificate_payload(c)},
        op);
}

}  // namespace nocturne::trust
