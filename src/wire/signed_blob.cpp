#include <nocturne/core/hex.hpp>
#include <nocturne/wire/json_reader.hpp>
#include <nocturne/wire/signed_blob.hpp>

namespace nocturne::wire {

std::string signing_bytes(std::string_view domain, std::string_view body) {
    std::string out;
    out.reserve(domain.size() + 1 + body.size());
    out.append(domain);
    out.push_back('\0');
    out.append(body);
    return out;
}

SignedBlob sign_blob(std::string_view domain, std::string body, const crypto::KeyPair& keys) {
    SignedBlob blob;
    blob.public_key = keys.public_key();
    blob.sig = keys.sign(as_bytes(signing_bytes(domain, body)));
    blob.body = std::move(body);
    return blob;
}

nlohmann::json blob_to_json(const SignedBlob& blob) {
    return {{"pk", to_hex(blob.public_key)}, {"body", blob.body}, {"sig", to_hex(blob.sig)}};
}

result<SignedBlob> read_verified_blob(const nlohmann::json& object, std::size_t max_body_bytes) {
    ObjectReader reader(object);
    SignedBlob blob;
    blob.public_key = reader.hex_fixed<32>("pk");
    blob.body = reader.string("body", max_body_bytes);
    blob.sig = reader.hex_fixed<64>("sig");
    if (auto ec = reader.finish()) return ec;
    return blob;
}

result<SignedBlob> verify_blob(const nlohmann::json& object, std::string_view domain,
                               std::size_t max_body_bytes) {
    auto blob = read_verified_blob(object, max_body_bytes);
    if (!blob) return blob;
    if (!crypto::verify(blob->public_key, as_bytes(signing_bytes(domain, blob->body)), blob->sig)) {
        return make_error_code(errc::bad_signature);
    }
    return blob;
}

}  // namespace nocturne::wire
