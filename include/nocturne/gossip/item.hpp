#pragma once

// What the gossip layer spreads: signed records of a few kinds, in four classes by priority.

#include <nocturne/core/clock.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/wire/record.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace nocturne::gossip {

// Highest priority first: under load the last classes are shed first, a revocation never.
enum class ItemClass : std::uint8_t { revocation, quarantine, certificate, anomaly };
inline constexpr std::size_t class_count = 4;
inline constexpr std::array<ItemClass, class_count> all_classes{
    ItemClass::revocation, ItemClass::quarantine, ItemClass::certificate, ItemClass::anomaly};

// The class's position in per-class arrays (queues, counters, expiry orders).
constexpr std::size_t class_index(ItemClass c) noexcept {
    return static_cast<std::size_t>(c);
}

const char* to_string(ItemClass c) noexcept;
// The class of a record kind; nullopt for kinds that are not gossiped (they live on the DHT).
std::optional<ItemClass> class_of(wire::RecordKind kind) noexcept;
// Rare and safety-critical: pushed whole at once. The others are announced (IHAVE) and pulled.
constexpr bool is_eager(ItemClass c) noexcept {
    return c == ItemClass::revocation || c == ItemClass::quarantine;
}

// An item's id: for a revocation, the operator it revokes (one is enough); for anything else the
// one signed version, by the SHA-256 of its signature.
using ItemId = NodeId;
ItemId item_id(const wire::Record& record);

// How long a node remembers having seen an item, so that an item that comes back is not spread
// again (a seen-cache that forgets too early floods again: js-libp2p #1043). Gossip forwards an
// item only before this time, so a copy it would forget is never spread. A revocation: until
// every certificate it can revoke has expired (those were issued before it, and live at most
// max_ttl_seconds(cert)); otherwise the record's own expiry; never less than `floor` from `now`
// (the replay horizon with a margin).
Clock::time_point seen_until(const wire::Record& record, Clock::time_point now,
                             Clock::duration floor);

}  // namespace nocturne::gossip
