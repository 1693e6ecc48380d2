#include <nocturne/dht/address_verifier.hpp>

namespace nocturne::dht {
namespace {

std::string verified_key(const NodeId& peer, const std::string& address) {
    return peer.to_hex() + ' ' + address;
}

// Forgets the oldest entries beyond `cap`. `order` lists keys as they were set, so a key set again
// leaves a stale entry behind; when those pile up past 2 * cap they are dropped (live entries
// keep their place, so a key set over and over never pushes the others out early).
void forget_beyond(std::unordered_map<std::string, Clock::time_point>& when,
                   std::deque<std::pair<std::string, Clock::time_point>>& order, std::size_t cap) {
    const auto stale = [&](const std::pair<std::string, Clock::time_point>& entry) {
        const auto it = when.find(entry.first);
        return it == when.end() || it->second != entry.second;
    };
    if (order.size() > 2 * cap) std::erase_if(order, stale);
    while (when.size() > cap && !order.empty()) {
        if (!stale(order.front())) when.erase(order.front().first);
        order.pop_front();
    }
}

}  // namespace

bool AddressVerifier::begin(const NodeId& peer, const std::string& address, Clock::time_point now) {
    if (peers_.size() >= options_.max_in_flight) return false;
    if (peers_.contains(peer) || addresses_.contains(address)) return false;
    if (const auto f = failed_.find(address); f != failed_.end()) {
        if (now - f->second < options_.failure_backoff) return false;
        failed_.erase(f);
    }
    peers_.insert(peer);
    addresses_.insert(address);
    return true;
}

void AddressVerifier::end(const NodeId& peer, const std::string& address, bool answered,
                          Clock::time_point now) {
    peers_.erase(peer);
    addresses_.erase(address);
    if (answered) {
        failed_.erase(address);
        const auto key = verified_key(peer, address);
        verified_[key] = now;
        verified_order_.emplace_back(key, now);
        forget_beyond(verified_, verified_order_, options_.max_verified);
        return;
    }
    failed_[address] = now;
    failed_order_.emplace_back(address, now);
    forget_beyond(failed_, failed_order_, options_.max_failed);
}

bool AddressVerifier::verified(const NodeId& peer, const std::string& address,
                               Clock::time_point now) const {
    const auto v = verified_.find(verified_key(peer, address));
    return v != verified_.end() && now - v->second < options_.verified_ttl;
}

}  // namespace nocturne::dht
