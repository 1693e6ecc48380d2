#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/gossip/item.hpp>
#include <nocturne/wire/payloads.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::gossip {

// The items a node reconciles with its peers (revocations, quarantines, certificates), by id,
// with what anti-entropy needs: the count and fingerprint of the ids under any hex prefix. A
// fingerprint is negentropy's: the first 16 bytes of SHA-256(sum of the ids modulo 2^256, count),
// kept up to date per first byte, so that the ranges a reconciliation opens with cost nothing to
// compute; deeper ranges are summed when asked.
//
// Owned by the gossip service's thread; not thread-safe.
class ItemSet {
public:
    // Keeps the record until `until`. False when it is there already.
    bool add(const ItemId& id, wire::Record record, ItemClass cls, Clock::time_point until);
    const wire::Record* find(const ItemId& id) const;
    bool contains(const ItemId& id) const { return items_.count(id) != 0; }
    void expire(Clock::time_point now);
    std::size_t size() const { return items_.size(); }

    // Count and fingerprint of the ids that begin with `prefix` (lower-case hex, up to 16 digits).
    wire::SyncRange range(std::string_view prefix) const;
    // The 16 ranges one digit finer than `prefix`.
    std::vector<wire::SyncRange> split(std::string_view prefix) const;
    // The ids under prefix, in order.
    std::vector<ItemId> ids(std::string_view prefix) const;
    // The ranges a reconciliation opens with: the whole set cut into 1, 16, 256 or 4096 ranges,
    // so that each holds about `per_range` ids or fewer (up to 4096 ranges: 240,000 items).
    std::vector<wire::SyncRange> opening(std::size_t per_range) const;

private:
    using Sum = std::array<std::uint64_t, 4>;  // 256 bits, most significant word first
    struct Held {
        wire::Record record;
        ItemClass cls;
        Clock::time_point until;
    };
    struct Bucket {
        Sum sum{};
        std::uint64_t count = 0;
    };
    static void add_to(Sum& sum, const ItemId& id, bool subtract);
    static void add_sums(Sum& into, const Sum& other);
    static wire::SyncRange make_range(std::string prefix, const Sum& sum, std::uint64_t count);
    // [first, last] ids under prefix.
    static std::pair<ItemId, ItemId> bounds(std::string_view prefix);
    void erase(std::map<ItemId, Held>::iterator it);

    std::map<ItemId, Held> items_;
    std::multimap<Clock::time_point, ItemId> expiry_;
    std::array<Bucket, 256> buckets_{};  // by first byte
};

}  // namespace nocturne::gossip
