#include <nocturne/dht/routing_table.hpp>

#include <algorithm>
#include <utility>

namespace nocturne::dht {
namespace {

template <class Entries>
auto find_entry(Entries& entries, const NodeId& id) {
    return std::find_if(entries.begin(), entries.end(),
                        [&](const auto& e) { return e.info.id == id; });
}

}  // namespace

RoutingTable::RoutingTable(NodeId self, const Clock& clock, std::size_t k, Options options)
    : self_(self),
      clock_(clock),
      k_(std::max<std::size_t>(k, 1)),
      options_(options),
      replacement_capacity_(options.replacement_cache_size == 0 ? k_
                                                                : options.replacement_cache_size),
      buckets_(num_buckets) {
    if (options_.max_failures == 0) options_.max_failures = 1;
    for (auto& b : buckets_) b.refreshed = clock_.now();
}

RoutingTable::AddResult RoutingTable::add(const PeerInfo& peer) {
    using Status = AddResult::Status;
    if (peer.id == self_) return {Status::rejected_self, std::nullopt};

    Bucket& bucket = bucket_for(peer.id);
    const auto now = clock_.now();

    Entry entry{peer, ip_group_of(peer.address, options_.exempt_loopback)};
    entry.info.last_seen = now;
    entry.info.failed_requests = 0;

    if (auto it = find_entry(bucket.peers, peer.id); it != bucket.peers.end()) {
        // Only a move to another group is checked: staying put cannot break a limit it fits.
        if (entry.group != it->group && !diversity_allows(bucket, entry.group))
            return {Status::rejected_diversity, std::nullopt};
        uncount_group(it->group);
        count_group(entry.group);
        *it = std::move(entry);
        move_to_tail(bucket, static_cast<std::size_t>(it - bucket.peers.begin()));
        bucket.refreshed = now;
        return {Status::updated, std::nullopt};
    }

    if (!diversity_allows(bucket, entry.group)) return {Status::rejected_diversity, std::nullopt};
    bucket.refreshed = now;

    if (bucket.peers.size() < k_) {
        if (auto it = find_entry(bucket.replacements, peer.id); it != bucket.replacements.end()) {
            bucket.replacements.erase(it);
            --replacement_count_;
        }
        count_group(entry.group);
        bucket.peers.push_back(std::move(entry));
        ++size_;
        return {Status::added, std::nullopt};
    }

    cache_replacement(bucket, std::move(entry));
    return {Status::cached, bucket.peers.front().info};
}

void RoutingTable::on_ping_succeeded(const NodeId& id) {
    Bucket& bucket = bucket_for(id);
    const auto now = clock_.now();
    if (auto it = find_entry(bucket.peers, id); it != bucket.peers.end()) {
        it->info.last_seen = now;
        it->info.failed_requests = 0;
        move_to_tail(bucket, static_cast<std::size_t>(it - bucket.peers.begin()));
        bucket.refreshed = now;
        return;
    }
    if (auto it = find_entry(bucket.replacements, id); it != bucket.replacements.end()) {
        Entry entry = std::move(*it);
        bucket.replacements.erase(it);
        entry.info.last_seen = now;
        bucket.replacements.push_back(std::move(entry));
    }
}

void RoutingTable::on_request_failed(const NodeId& id) {
    Bucket& bucket = bucket_for(id);
    if (auto it = find_entry(bucket.peers, id); it != bucket.peers.end()) {
        if (++it->info.failed_requests >= options_.max_failures)
            remove_peer_at(bucket, static_cast<std::size_t>(it - bucket.peers.begin()));
        return;
    }
    if (auto it = find_entry(bucket.replacements, id); it != bucket.replacements.end()) {
        bucket.replacements.erase(it);
        --replacement_count_;
    }
}

void RoutingTable::evict(const NodeId& id) {
    remove(id);
}

bool RoutingTable::remove(const NodeId& id) {
    Bucket& bucket = bucket_for(id);
    if (auto it = find_entry(bucket.peers, id); it != bucket.peers.end()) {
        remove_peer_at(bucket, static_cast<std::size_t>(it - bucket.peers.begin()));
        return true;
    }
    if (auto it = find_entry(bucket.replacements, id); it != bucket.replacements.end()) {
        bucket.replacements.erase(it);
        --replacement_count_;
        return true;
    }
    return false;
}

std::vector<PeerInfo> RoutingTable::closest_n(const NodeId& target, std::size_t n) const {
    return closest_n(target, n, [](const PeerInfo&) { return true; });
}

std::vector<PeerInfo> RoutingTable::closest_n(
    const NodeId& target, std::size_t n, const std::function<bool(const PeerInfo&)>& keep) const {
    n = std::min(n, size_);
    if (n == 0) return {};
    // Seen from the target, the buckets form groups in strict distance order. With f =
    // bucket_index(self, target): bucket f (its peers match the target at bit f, where self does
    // not), then all buckets after f together (they match self, not the target, at bit f), then
    // f - 1, f - 2, ..., 0. Whole groups are gathered in that order until there are n candidates,
    // so usually a bucket or two is sorted rather than the whole table. (distance, pointer) pairs
    // are cheap to move and compute each distance once.
    std::vector<std::pair<NodeId, const PeerInfo*>> candidates;
    const auto gather = [&](const Bucket& bucket) {
        for (const auto& e : bucket.peers) {
            if (keep(e.info)) candidates.emplace_back(xor_distance(target, e.info.id), &e.info);
        }
    };
    const std::size_t first = bucket_index(self_, target);
    gather(buckets_[first]);
    if (candidates.size() < n)
        for (std::size_t i = first + 1; i < buckets_.size(); ++i) gather(buckets_[i]);
    for (std::size_t i = first; i > 0 && candidates.size() < n; --i) gather(buckets_[i - 1]);
    n = std::min(n, candidates.size());
    // Distances to one target are distinct for distinct ids, so the order is total.
    const auto by_distance = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                      candidates.end(), by_distance);
    std::vector<PeerInfo> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(*candidates[i].second);
    return out;
}

std::vector<std::size_t> RoutingTable::stale_buckets(Clock::duration max_age) const {
    const auto now = clock_.now();
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < buckets_.size(); ++i)
        if (!buckets_[i].peers.empty() && now - buckets_[i].refreshed > max_age) out.push_back(i);
    return out;
}

void RoutingTable::mark_refreshed(std::size_t bucket) {
    if (bucket < buckets_.size()) buckets_[bucket].refreshed = clock_.now();
}

bool RoutingTable::contains(const NodeId& id) const {
    const Bucket& bucket = bucket_for(id);
    return find_entry(bucket.peers, id) != bucket.peers.end();
}

std::optional<PeerInfo> RoutingTable::find(const NodeId& id) const {
    const Bucket& bucket = bucket_for(id);
    if (auto it = find_entry(bucket.peers, id); it != bucket.peers.end()) return it->info;
    return std::nullopt;
}

std::vector<PeerInfo> RoutingTable::all_peers() const {
    std::vector<PeerInfo> out;
    out.reserve(size_);
    for (const auto& bucket : buckets_)
        for (const auto& e : bucket.peers) out.push_back(e.info);
    return out;
}

bool RoutingTable::diversity_allows(const Bucket& bucket,
                                    const std::optional<IpGroup>& group) const {
    if (!group) return true;
    if (options_.max_per_table_per_group != 0) {
        const auto it = group_counts_.find(*group);
        if (it != group_counts_.end() && it->second >= options_.max_per_table_per_group)
            return false;
    }
    if (options_.max_per_bucket_per_group != 0) {
        const auto in_bucket = std::count_if(bucket.peers.begin(), bucket.peers.end(),
                                             [&](const Entry& e) { return e.group == group; });
        if (static_cast<std::size_t>(in_bucket) >= options_.max_per_bucket_per_group) return false;
    }
    return true;
}

void RoutingTable::count_group(const std::optional<IpGroup>& group) {
    if (group) ++group_counts_[*group];
}

void RoutingTable::uncount_group(const std::optional<IpGroup>& group) {
    if (!group) return;
    const auto it = group_counts_.find(*group);
    if (it == group_counts_.end()) return;
    if (--it->second == 0) group_counts_.erase(it);
}

void RoutingTable::remove_peer_at(Bucket& bucket, std::size_t index) {
    uncount_group(bucket.peers[index].group);
    bucket.peers.erase(bucket.peers.begin() + static_cast<std::ptrdiff_t>(index));
    --size_;
    promote_replacement(bucket);
}

void RoutingTable::promote_replacement(Bucket& bucket) {
    // Newest first: the most recently seen replacement is the likeliest to still be up. Ones that
    // do not fit the diversity limits stay cached; the table may change before the next eviction.
    for (auto it = bucket.replacements.rbegin(); it != bucket.replacements.rend(); ++it) {
        if (!diversity_allows(bucket, it->group)) continue;
        Entry entry = std::move(*it);
        bucket.replacements.erase(std::next(it).base());
        --replacement_count_;
        count_group(entry.group);
        // Keep the bucket ordered by last_seen, so that its head stays the eviction candidate.
        const auto pos =
            std::find_if(bucket.peers.begin(), bucket.peers.end(),
                         [&](const Entry& e) { return e.info.last_seen > entry.info.last_seen; });
        bucket.peers.insert(pos, std::move(entry));
        ++size_;
        return;
    }
}

void RoutingTable::move_to_tail(Bucket& bucket, std::size_t index) {
    const auto it = bucket.peers.begin() + static_cast<std::ptrdiff_t>(index);
    std::rotate(it, it + 1, bucket.peers.end());
}

void RoutingTable::cache_replacement(Bucket& bucket, Entry entry) {
    if (auto it = find_entry(bucket.replacements, entry.info.id); it != bucket.replacements.end()) {
        bucket.replacements.erase(it);
        --replacement_count_;
    }
    if (bucket.replacements.size() >= replacement_capacity_) {
        bucket.replacements.erase(bucket.replacements.begin());
        --replacement_count_;
    }
    bucket.replacements.push_back(std::move(entry));
    ++replacement_count_;
}

}  // namespace nocturne::dht
