#include <nocturne/dht/address_verifier.hpp>

namespace nocturne::dht {

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
        return;
    }
    failed_[address] = now;
    failed_order_.emplace_back(address, now);
    // Forget the oldest failures beyond the cap; an order entry whose address failed again
    // later (or was answered since) is stale and just dropped.
    while (failed_.size() > options_.max_failed ||
           (!failed_order_.empty() && failed_order_.size() > 2 * options_.max_failed)) {
        const auto [oldest, at] = failed_order_.front();
        failed_order_.pop_front();
        if (const auto f = failed_.find(oldest); f != failed_.end() && f->second == at) {
            failed_.erase(f);
        }
    }
}

}  // namespace nocturne::dht
