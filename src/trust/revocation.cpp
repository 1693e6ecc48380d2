#include <nocturne/core/bytes.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/trust/revocation.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <algorithm>

namespace nocturne::trust {
namespace {

constexpr std::string_view revocation_share_type = "nocturne-revocation-signature";
constexpr std::size_t max_revocation_share_bytes = 4096;

}  // namespace

bool is_valid_reason(std::string_view reason) noexcept {
    if (reason.empty() || reason.size() > max_reason_bytes) return false;
    return std::none_of(reason.begin(), reason.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

nlohmann::json signatures_json(const std::vector<RevocationSignature>& signatures) {
    nlohmann::json sigs = nlohmann::json::array();
    for (const auto& s : signatures) {
        sigs.push_back({{"signer", to_hex(s.signer)}, {"sig", to_hex(s.sig)}});
    }
    return sigs;
}

result<std::vector<RevocationSignature>> read_signatures(const nlohmann::json& array,
                                                         const crypto::PublicKey& author) {
    std::vector<RevocationSignature> out;
    bool author_signed = false;
    for (const auto& item : array) {
        wire::ObjectReader sr(item);
        RevocationSignature s;
        s.signer = sr.hex_fixed<32>("signer");
        s.sig = sr.hex_fixed<64>("sig");
        if (auto ec = sr.finish()) return ec;
        author_signed = author_signed || s.signer == author;
        out.push_back(s);
    }
    if (!author_signed) return make_error_code(errc::public_key_mismatch);
    return out;
}

std::string revocation_message(std::string_view operator_id, std::int64_t timestamp,
                               std::string_view reason) {
    std::string m = "REVOKE:";
    m += operator_id;
    m += ':';
    m += std::to_string(timestamp);
    m += ':';
    m += reason;
    return m;
}

RevocationSignature sign_revocation(const crypto::KeyPair& signer, std::string_view operator_id,
                                    std::int64_t timestamp, std::string_view reason) {
    return {signer.public_key(),
            signer.sign(as_bytes(revocation_message(operator_id, timestamp, reason)))};
}

std::error_code verify_revocation_signature(const RevocationSignature& signature,
                                            std::string_view operator_id, std::int64_t timestamp,
                                            std::string_view reason) {
    const auto message = revocation_message(operator_id, timestamp, reason);
    if (!crypto::verify(signature.signer, as_bytes(message), signature.sig)) {
        return make_error_code(errc::bad_signature);
    }
    return {};
}

RevocationCertificate create_revocation(std::string network, std::string operator_id,
                                        std::string reason, std::int64_t timestamp,
                                        const std::vector<const crypto::KeyPair*>& signers) {
    RevocationCertificate rev{
        std::move(network), std::move(operator_id), std::move(reason), timestamp, {}};
    for (const auto* signer : signers) {
        rev.signatures.push_back(sign_revocation(*signer, rev.operator_id, timestamp, rev.reason));
    }
    return rev;
}

std::string encode_revocation_share(const RevocationShare& share) {
    nlohmann::json j = {{"type", revocation_share_type},
                        {"v", 1},
                        {"network", share.network},
                        {"operator_id", share.operator_id},
                        {"reason", share.reason},
                        {"timestamp", share.timestamp},
                        {"signer", to_hex(share.signature.signer)},
                        {"sig", to_hex(share.signature.sig)}};
    return j.dump(2) + "\n";
}

result<RevocationShare> parse_revocation_share(std::string_view text) {
    auto json = wire::parse_json(text, max_revocation_share_bytes, 4);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    const auto type = r.string("type", 64);
    const auto version = r.int64("v", 0, 1000);
    RevocationShare s;
    s.network = r.string("network", wire::max_identifier_bytes);
    s.operator_id = r.string("operator_id", wire::max_identifier_bytes);
    s.reason = r.string("reason", max_reason_bytes);
    s.timestamp = r.int64("timestamp", 0, INT64_MAX);
    s.signature.signer = r.hex_fixed<32>("signer");
    s.signature.sig = r.hex_fixed<64>("sig");
    if (auto ec = r.finish()) return ec;
    if (type != revocation_share_type) return make_error_code(errc::value_out_of_range);
    if (version != 1) return make_error_code(errc::unknown_version);
    if (!wire::is_valid_id(s.operator_id) || !is_valid_reason(s.reason)) {
        return make_error_code(errc::value_out_of_range);
    }
    if (auto ec = verify_revocation_signature(s.signature, s.operator_id, s.timestamp, s.reason)) {
        return ec;
    }
    return s;
}

result<RevocationCertificate> combine_revocation_shares(
    const std::vector<RevocationShare>& shares) {
    if (shares.empty()) return make_error_code(errc::insufficient_signatures);
    const auto& first = shares.front();
    RevocationCertificate rev{first.network, first.operator_id, first.reason, first.timestamp, {}};
    for (const auto& s : shares) {
        if (s.network != first.network || s.operator_id != first.operator_id ||
            s.reason != first.reason || s.timestamp != first.timestamp) {
            return make_error_code(errc::value_out_of_range);
        }
        rev.signatures.push_back(s.signature);
    }
    return rev;
}

std::string revocation_payload(const RevocationCertificate& revocation) {
    nlohmann::json j = {{"network", revocation.network},
                        {"operator_id", revocation.operator_id},
                        {"reason", revocation.reason},
                        {"timestamp", revocation.timestamp},
                        {"signatures", signatures_json(revocation.signatures)}};
    return wire::to_compact_json(j);
}

result<RevocationCertificate> revocation_from_record(const wire::Record& record) {
    if (record.kind != wire::RecordKind::revocation) {
        return make_error_code(errc::unknown_record_kind);
    }
    auto json = wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                                 wire::default_limits.max_json_depth);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    RevocationCertificate rev;
    rev.network = r.string("network", wire::max_identifier_bytes);
    rev.operator_id = r.string("operator_id", wire::max_identifier_bytes);
    rev.reason = r.string("reason", max_reason_bytes);
    rev.timestamp = r.int64("timestamp", 0, INT64_MAX);
    const auto* sigs = r.array("signatures", max_revocation_signatures);
    if (auto ec = r.finish()) return ec;
    if (!is_valid_reason(rev.reason)) return make_error_code(errc::value_out_of_range);
    auto signatures = read_signatures(*sigs, record.author);
    if (!signatures) return signatures.error();
    rev.signatures = std::move(*signatures);
    return rev;
}

result<wire::Record> sign_revocation_record(const RevocationCertificate& revocation,
                                            const crypto::KeyPair& author, std::int64_t now) {
    return wire::sign_record(
        {wire::RecordKind::revocation, 1, now,
         now + wire::max_ttl_seconds(wire::RecordKind::revocation), revocation_payload(revocation)},
        author);
}

}  // namespace nocturne::trust
