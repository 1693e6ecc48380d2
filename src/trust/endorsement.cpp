#include <nocturne/core/bytes.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/trust/endorsement.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::trust {
namespace {

constexpr std::string_view file_type = "nocturne-endorsement";
constexpr std::size_t max_file_bytes = 4096;

}  // namespace

std::string endorsement_message(const crypto::PublicKey& subject, std::int64_t timestamp) {
    return "ENDORSE:" + to_hex(subject) + ":" + std::to_string(timestamp);
}

Endorsement create_endorsement(const crypto::KeyPair& endorser, const crypto::PublicKey& subject,
                               std::int64_t timestamp) {
    Endorsement e;
    e.endorser = endorser.public_key();
    e.subject = subject;
    e.timestamp = timestamp;
    e.sig = endorser.sign(as_bytes(endorsement_message(subject, timestamp)));
    return e;
}

std::error_code verify_endorsement(const Endorsement& endorsement,
                                   const crypto::PublicKey& endorser,
                                   const crypto::PublicKey& subject) {
    if (endorsement.endorser != endorser) return make_error_code(errc::public_key_mismatch);
    if (endorsement.subject != subject) return make_error_code(errc::wrong_subject);
    const auto message = endorsement_message(subject, endorsement.timestamp);
    if (!crypto::verify(endorser, as_bytes(message), endorsement.sig)) {
        return make_error_code(errc::bad_signature);
    }
    return {};
}

std::string encode_endorsement_file(const Endorsement& endorsement) {
    nlohmann::json j = {{"type", file_type},
                        {"v", 1},
                        {"endorser", to_hex(endorsement.endorser)},
                        {"operator", to_hex(endorsement.subject)},
                        {"timestamp", endorsement.timestamp},
                        {"sig", to_hex(endorsement.sig)}};
    return j.dump(2) + "\n";
}

result<Endorsement> parse_endorsement_file(std::string_view text) {
    auto json = wire::parse_json(text, max_file_bytes, 4);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    const auto type = r.string("type", 64);
    const auto version = r.int64("v", 0, 1000);
    Endorsement e;
    e.endorser = r.hex_fixed<32>("endorser");
    e.subject = r.hex_fixed<32>("operator");
    e.timestamp = r.int64("timestamp", 0, INT64_MAX);
    e.sig = r.hex_fixed<64>("sig");
    if (auto ec = r.finish()) return ec;
    if (type != file_type) return make_error_code(errc::value_out_of_range);
    if (version != 1) return make_error_code(errc::unknown_version);
    if (auto ec = verify_endorsement(e, e.endorser, e.subject)) return ec;
    return e;
}

}  // namespace nocturne::trust
