#include <nocturne/core/bytes.hpp>
#include <nocturne/wire/payloads.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <string>

namespace nocturne::wire {
namespace {

constexpr std::string_view store_ack_domain = "nocturne/store-ack/v1";

// The record's key and its signature: the signature names the exact version (it covers the body).
std::string ack_body(const Record& record) {
    std::string body(reinterpret_cast<const char*>(record.key.bytes().data()), NodeId::size);
    body.append(reinterpret_cast<const char*>(record.sig.data()), record.sig.size());
    return signing_bytes(store_ack_domain, body);
}

}  // namespace

StoreAck sign_store_ack(const Record& record, const crypto::KeyPair& keys) {
    const auto bytes = ack_body(record);
    return StoreAck{keys.public_key(), keys.sign(as_bytes(bytes))};
}

bool verify_store_ack(const StoreAck& ack, const Record& record, const NodeId& by) {
    const auto id = NodeId::from_public_key(ack.key);
    if (!id || *id != by) return false;
    const auto bytes = ack_body(record);
    return crypto::verify(ack.key, as_bytes(bytes), ack.sig);
}

}  // namespace nocturne::wire
