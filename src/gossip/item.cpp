#include <nocturne/core/sha256.hpp>
#include <nocturne/gossip/item.hpp>
#include <nocturne/trust/revocation.hpp>

#include <algorithm>

namespace nocturne::gossip {

const char* to_string(ItemClass c) noexcept {
    switch (c) {
        case ItemClass::revocation:
            return "revocation";
        case ItemClass::quarantine:
            return "quarantine";
        case ItemClass::certificate:
            return "certificate";
        case ItemClass::anomaly:
            return "anomaly";
    }
    return "unknown";
}

std::optional<ItemClass> class_of(wire::RecordKind kind) noexcept {
    switch (kind) {
        case wire::RecordKind::revocation:
            return ItemClass::revocation;
        case wire::RecordKind::quarantine:
            return ItemClass::quarantine;
        case wire::RecordKind::cert:
        case wire::RecordKind::agent_cert:
            return ItemClass::certificate;
        case wire::RecordKind::anomaly:
            return ItemClass::anomaly;
        default:
            return std::nullopt;
    }
}

ItemId item_id(const wire::Record& record) {
    // All revocations of one operator are one item: a second one (re-signed by someone else,
    // other signers) adds nothing, and must not count as new anywhere.
    std::string revoked;
    if (record.kind == wire::RecordKind::revocation) {
        if (auto rev = trust::revocation_from_record(record)) {
            revoked = "nocturne/gossip/revocation/v1:" + rev->network + ":" + rev->operator_id;
        }
    }
    const auto digest = revoked.empty() ? sha256(bytes_view(record.sig.data(), record.sig.size()))
                                        : sha256(as_bytes(revoked));
    ItemId id;
    std::copy(digest.begin(), digest.end(), id.bytes().begin());
    return id;
}

Clock::time_point seen_until(const wire::Record& record, Clock::time_point now,
                             Clock::duration floor) {
    std::int64_t until = record.expires;
    if (record.kind == wire::RecordKind::revocation) {
        until = std::min(until, record.created + wire::max_ttl_seconds(wire::RecordKind::cert));
    }
    const auto at = Clock::time_point{std::chrono::seconds{until}};
    return std::max(at, now + floor);
}

}  // namespace nocturne::gossip
