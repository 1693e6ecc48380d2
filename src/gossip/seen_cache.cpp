#include <nocturne/gossip/seen_cache.hpp>

namespace nocturne::gossip {
bool SeenCache::insert(const ItemId& id, ItemClass cls, Clock::time_point until) {
    if (auto it = entries_.find(id); it != entries_.end()) {
        if (until > it->second.until) {
            auto& order = by_expiry_[class_index(it->second.cls)];
            auto [first, last] = order.equal_range(it->second.until);
            for (auto at = first; at != last; ++at) {
                if (at->second == id) {
                    order.erase(at);
                    break;
                }
            }
            it->second.until = until;
            order.emplace(until, id);
        }
        return false;
    }
    // At capacity the lowest class makes room; with nothing but revocations held, it grows
    // (revocations need the signatures of revocation_threshold trusted operators each).
    while (entries_.size() >= capacity_ && evict_one()) {
    }
    entries_.emplace(id, Entry{cls, until});
    by_expiry_[class_index(cls)].emplace(until, id);
    return true;
}

bool SeenCache::evict_one() {
    // Lowest priority first; revocations are never forgotten early.
    for (std::size_t c = class_count; c-- > 1;) {
        auto& order = by_expiry_[c];
        if (order.empty()) continue;
        erase(order.begin(), static_cast<ItemClass>(c));
        ++evicted_;
        return true;
    }
    return false;
}

void SeenCache::erase(std::multimap<Clock::time_point, ItemId>::iterator at, ItemClass cls) {
    entries_.erase(at->second);
    by_expiry_[class_index(cls)].erase(at);
}

void SeenCache::expire(Clock::time_point now) {
    for (std::size_t c = 0; c < class_count; ++c) {
        auto& order = by_expiry_[c];
        while (!order.empty() && order.begin()->first <= now) {
            erase(order.begin(), static_cast<ItemClass>(c));
        }
    }
}

}  // namespace nocturne::gossip
