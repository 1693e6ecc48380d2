#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/gossip/item.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>

namespace nocturne::gossip {

// The ids of the valid items a node has seen, each until its class's lifetime ends (seen_until):
// an item seen again is a duplicate, neither validated nor forwarded again. Only items that passed
// validation enter, so what it holds is bounded by what the Web of Trust lets operators sign; at
// `capacity` it forgets the lowest class first, soonest to expire first, and never a revocation
// (each needs the signatures of revocation_threshold trusted operators).
//
// Owned by the gossip service's thread; not thread-safe.
class SeenCache {
public:
    explicit SeenCache(std::size_t capacity) : capacity_(capacity) {}

    // Remembers id until `until` (a later time extends it). False when it was there already.
    bool insert(const ItemId& id, ItemClass cls, Clock::time_point until);
    bool contains(const ItemId& id) const { return entries_.count(id) != 0; }
    // Forgets what has expired.
    void expire(Clock::time_point now);

    std::size_t size() const { return entries_.size(); }
    // Forgotten early, at capacity.
    std::uint64_t evicted() const { return evicted_; }

private:
    struct Entry {
        ItemClass cls;
        Clock::time_point until;
    };
    void erase(std::multimap<Clock::time_point, ItemId>::iterator at, ItemClass cls);
    bool evict_one();

    std::size_t capacity_;
    std::unordered_map<ItemId, Entry, NodeIdHash> entries_;
    std::array<std::multimap<Clock::time_point, ItemId>, class_count> by_expiry_;
    std::uint64_t evicted_ = 0;
};

}  // namespace nocturne::gossip
