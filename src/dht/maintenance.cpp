#include "maintenance.hpp"

#include <algorithm>
#include <array>
#include <random>

namespace nocturne::dht {
namespace {

// Peers the table dropped after failed requests (peer_lost): how many are remembered, how many
// PINGs one tick sends them, when the first goes (plus up to as much again, at random), the
// longest pause between two, and how long one is tried at all.
constexpr std::size_t max_lost_peers = 64;
constexpr std::size_t lost_probes_per_tick = 4;
constexpr std::chrono::seconds lost_first_probe{15};
constexpr std::chrono::minutes lost_probe_max_interval{5};
constexpr std::chrono::hours lost_peer_max_age{24};
// Clocks and puts in flight: the margin on the creation times that bound a hand-over.
constexpr std::int64_t handover_slack_seconds = 5;

// The key range whose keys share their first `bits` bits with id.
std::pair<NodeId, NodeId> prefix_range(const NodeId& id, std::size_t bits) {
    NodeId lo = id, hi = id;
    for (std::size_t bit = bits; bit < num_buckets; ++bit) {
        const auto byte = bit / 8;
        const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
        lo[byte] = static_cast<std::uint8_t>(lo[byte] & ~mask);
        hi[byte] = static_cast<std::uint8_t>(hi[byte] | mask);
    }
    return {lo, hi};
}

NodeId successor(const NodeId& id, bool& wrapped) {
    NodeId next = id;
    for (std::size_t i = NodeId::size; i-- > 0;) {
        if (++next[i] != 0) {
            wrapped = false;
            return next;
        }
    }
    wrapped = true;
    return next;
}

}  // namespace

Node::Maintenance::Maintenance(Node& node) : node_(node) {
    const auto now = node_.clock_.now();
    const auto& c = node_.config_;
    next_refresh_ = now + c.refresh_interval / 8;
    next_replicate_ = now + c.replicate_interval;
    next_republish_ = now + c.republish_interval;
    next_prune_ = now + c.prune_interval;
}

Clock::time_point Node::Maintenance::next_wakeup() const {
    // A sweep in progress continues at the next tick the host gives us; the host ticks at least
    // every RPC timeout anyway, and the simulator at the next event.
    auto t = std::min({next_refresh_, next_replicate_, next_republish_, next_prune_});
    for (const auto& [id, lost] : lost_) {
        if (!lost.probing) t = std::min(t, lost.next_probe);
    }
    if (busy()) t = std::min(t, std::max(next_sweep_, node_.clock_.now()));
    return t;
}

void Node::Maintenance::tick() {
    const auto now = node_.clock_.now();
    const auto& c = node_.config_;
    if (now >= next_prune_) {
        next_prune_ = now + c.prune_interval;
        prune();
    }
    if (now >= next_refresh_) {
        next_refresh_ = now + c.refresh_interval / 8;
        refresh_buckets();
    }
    if (now >= next_replicate_) {
        next_replicate_ = now + c.replicate_interval;
        if (!replication_) replication_ = Sweep{NodeId{}, prefix_range(NodeId{}, 0).second};
    }
    if (now >= next_republish_) {
        next_republish_ = now + c.republish_interval;
        republish();
    }
    if (busy() && now >= next_sweep_) {
        next_sweep_ = now + sweep_step;
        replicate_step();
        handover_step();
    }
    probe_lost();
}

void Node::Maintenance::peer_lost(const wire::Contact& peer) {
    if (peer.address.empty()) return;
    const auto now = node_.clock_.now();
    if (lost_.size() >= max_lost_peers && !lost_.contains(peer.id)) {
        const auto oldest = std::min_element(
            lost_.begin(), lost_.end(),
            [](const auto& a, const auto& b) { return a.second.lost_at < b.second.lost_at; });
        if (oldest->second.probing) return;  // its answer is awaited; this loss is not kept
        lost_.erase(oldest);
    }
    // Spread over the first interval, so that a partition's many losses do not probe at once.
    std::uniform_int_distribution<std::int64_t> jitter(0, lost_first_probe.count());
    auto& lost = lost_[peer.id];
    lost.contact = peer;
    lost.lost_at = now;
    lost.backoff = lost_first_probe;
    if (!lost.probing) {
        lost.next_probe = now + lost_first_probe + std::chrono::seconds(jitter(node_.rng_));
    }
}

void Node::Maintenance::probe_lost() {
    const auto now = node_.clock_.now();
    std::size_t sent = 0;
    for (auto it = lost_.begin(); it != lost_.end();) {
        auto& lost = it->second;
        // Back by other means (it called us, a lookup met it), or gone for good; a PING out is
        // awaited first (its callback finds the entry).
        if (!lost.probing &&
            (node_.table_.contains(it->first) || now - lost.lost_at > lost_peer_max_age)) {
            it = lost_.erase(it);
            continue;
        }
        if (lost.probing || now < lost.next_probe || sent == lost_probes_per_tick) {
            ++it;
            continue;
        }
        ++sent;
        lost.probing = true;
        const auto id = it->first;
        // Answered over a connection we dialed to its address, by the id the handshake proved:
        // it is reachable there, and goes back into the table.
        node_.ping(lost.contact, [this, id](std::optional<NodeId> answered) {
            const auto found = lost_.find(id);
            if (found == lost_.end()) return;
            auto& l = found->second;
            l.probing = false;
            if (answered && *answered == id) {
                const auto contact = l.contact;
                lost_.erase(found);
                node_.learn(contact);
                return;
            }
            l.backoff = std::min<Clock::duration>(l.backoff * 2, lost_probe_max_interval);
            l.next_probe = node_.clock_.now() + l.backoff;
        });
        ++it;
    }
}

void Node::Maintenance::prune() {
    (void)node_.store_.prune_expired(node_.clock_.unix_seconds());
    const auto now = node_.clock_.now();
    std::erase_if(stored_recently_, [&](const auto& kv) {
        return now - kv.second >= node_.config_.replicate_interval;
    });
}

void Node::Maintenance::note_stored(const NodeId& key) {
    stored_recently_[key] = node_.clock_.now();
}

std::vector<NodeId> Node::Maintenance::next_keys(Sweep& sweep, std::size_t budget) {
    std::vector<NodeId> out;
    if (sweep.done) return out;
    auto keys = node_.store_.keys_from(sweep.next, budget);
    if (!keys) {
        sweep.done = true;  // a store error: the next round starts over
        return out;
    }
    for (const auto& key : *keys) {
        if (key > sweep.last) {
            sweep.done = true;
            return out;
        }
        out.push_back(key);
    }
    if (keys->size() < budget) {
        sweep.done = true;
    } else {
        bool wrapped = false;
        sweep.next = successor(keys->back(), wrapped);
        sweep.done = wrapped;
    }
    return out;
}

std::optional<std::size_t> Node::Maintenance::send_records(const NodeId& key, std::size_t offset,
                                                           const std::vector<wire::Contact>& to,
                                                           std::size_t& budget, std::size_t& frames,
                                                           std::int64_t created_before,
                                                           std::int64_t created_from) {
    if (to.empty()) return std::nullopt;
    const auto now_s = node_.clock_.unix_seconds();
    const auto per_page = node_.config_.limits.max_records_per_response;
    for (;;) {
        auto page = node_.store_.page(key, now_s, offset, per_page);
        if (!page || page->empty()) return std::nullopt;
        for (const auto& r : *page) {
            if (r.created >= created_before || r.created < created_from) {
                ++offset;
                continue;
            }
            const auto message = node_.store_message(r);
            for (const auto& peer : to) {
                ++node_.stats_.replicated;
                node_.send_store(peer, message, nullptr);
            }
            ++offset;
            const auto cost = (r.body.size() + 200) * to.size();
            budget = cost >= budget ? 0 : budget - cost;
            frames = to.size() >= frames ? 0 : frames - to.size();
            if (budget == 0 || frames == 0) return offset;
        }
        if (page->size() < per_page) return std::nullopt;
    }
}

void Node::Maintenance::rewind(Sweep& sweep, const NodeId& key) {
    bool wrapped = false;
    sweep.next = successor(key, wrapped);
    sweep.done = wrapped || key >= sweep.last;
}

void Node::Maintenance::replicate_step() {
    if (!replication_) return;
    const auto now = node_.clock_.now();
    std::size_t budget = node_.config_.maintenance_bytes_per_tick;
    std::size_t frames = node_.config_.maintenance_frames_per_tick;
    const auto peers_of = [&](const NodeId& key) {
        return node_.closest_contacts(key, node_.config_.k, node_.self_, true);
    };
    if (replication_resume_) {
        const auto key = replication_resume_->key;
        if (auto next =
                send_records(key, replication_resume_->offset, peers_of(key), budget, frames)) {
            replication_resume_->offset = *next;
            return;
        }
        replication_resume_.reset();
    }
    for (const auto& key : next_keys(*replication_, node_.config_.keys_per_tick)) {
        if (auto it = stored_recently_.find(key);
            it != stored_recently_.end() && now - it->second < node_.config_.replicate_interval) {
            continue;
        }
        if (auto next = send_records(key, 0, peers_of(key), budget, frames)) {
            replication_resume_ = Resume{key, *next};
            rewind(*replication_, key);
            return;
        }
    }
    if (replication_->done) replication_.reset();
}

void Node::Maintenance::offer_records_to(const wire::Contact& newcomer) {
    if (handovers_.size() >= node_.config_.max_newcomers_queued) return;
    const auto now = node_.clock_.now();
    // A peer handed its records lately and back (after a partition, a restart) had them: it gets
    // only those created since, which it may have missed while it was away (those written on the
    // other side of a partition). Hourly replication would send them too, but an hour late.
    std::int64_t from = INT64_MIN;
    if (const auto it = handed_over_.find(newcomer.id);
        it != handed_over_.end() && now - it->second < node_.config_.replicate_interval) {
        // Where the last hand-over stopped (its `since`): no record falls between the two.
        from = node_.clock_.unix_seconds() -
               std::chrono::duration_cast<std::chrono::seconds>(now - it->second).count() +
               handover_slack_seconds;
    }
    if (handed_over_.size() >= max_handed_over) {
        std::erase_if(handed_over_, [&](const auto& kv) {
            return now - kv.second >= node_.config_.replicate_interval;
        });
        if (handed_over_.size() >= max_handed_over) handed_over_.erase(handed_over_.begin());
    }
    handed_over_[newcomer.id] = now;
    // The keys the newcomer can be among the k closest to, as far as we know: a key that shares
    // exactly p leading bits with it lies on the other side of bit p, with the storers that share
    // exactly p bits with the newcomer, and each of those is closer to the key than the newcomer.
    // Where we know k or more of them (ourselves included), no key there is the newcomer's. So the
    // walk covers the newcomer's subtree below the first depth where we know fewer than k, a few
    // keys a tick (and each key is checked exactly before anything is sent).
    std::array<std::size_t, num_buckets> known_at{};
    ++known_at[bucket_index(newcomer.id, node_.self_)];
    for (const auto& p :
         node_.closest_contacts(newcomer.id, node_.table_.size(), newcomer.id, true)) {
        ++known_at[bucket_index(newcomer.id, p.id)];
    }
    std::size_t bits = 0;
    while (bits < num_buckets && known_at[bits] >= node_.config_.k) ++bits;
    const auto [lo, hi] = prefix_range(newcomer.id, bits);
    // Five seconds of slack: puts in flight while the newcomer was learned may have missed it.
    // (An author's clock may be off; what this skips, hourly replication still sends.)
    handovers_.push_back(Handover{newcomer, Sweep{lo, hi}, std::nullopt,
                                  node_.clock_.unix_seconds() + handover_slack_seconds, from});
}

void Node::Maintenance::handover_step() {
    if (handovers_.empty()) return;
    auto& h = handovers_.front();
    std::size_t budget = node_.config_.maintenance_bytes_per_tick;
    std::size_t frames = node_.config_.maintenance_frames_per_tick;
    if (h.resume) {
        if (auto next = send_records(h.resume->key, h.resume->offset, {h.newcomer}, budget, frames,
                                     h.since, h.from)) {
            h.resume->offset = *next;
            return;
        }
        h.resume.reset();
    }
    for (const auto& key : next_keys(h.range, node_.config_.keys_per_tick)) {
        // Hand over what the newcomer is now responsible for: it is among the k closest storers
        // we know.
        const auto closest = node_.closest_contacts(key, node_.config_.k, NodeId{}, true);
        const bool among = std::any_of(closest.begin(), closest.end(), [&](const wire::Contact& p) {
            return p.id == h.newcomer.id;
        });
        if (!among) continue;
        if (auto next = send_records(key, 0, {h.newcomer}, budget, frames, h.since, h.from)) {
            h.resume = Resume{key, *next};
            rewind(h.range, key);
            return;
        }
    }
    if (h.range.done) handovers_.pop_front();
}

void Node::Maintenance::refresh_buckets() {
    for (const auto bucket : node_.table_.stale_buckets(node_.config_.refresh_interval)) {
        node_.table_.mark_refreshed(bucket);
        node_.find_node(node_.random_id_in_bucket(bucket), nullptr);
    }
}

void Node::Maintenance::publish(const wire::Record& record) {
    auto& mine = published_[record.key];
    std::erase_if(mine, [&](const wire::Record& r) { return r.same_identity(record); });
    mine.push_back(record);
}

void Node::Maintenance::withdraw(const NodeId& key) {
    published_.erase(key);
}

void Node::Maintenance::withdraw(const wire::Record& record) {
    const auto it = published_.find(record.key);
    if (it == published_.end()) return;
    std::erase_if(it->second, [&](const wire::Record& r) { return r.same_identity(record); });
    if (it->second.empty()) published_.erase(it);
}

void Node::Maintenance::republish() {
    const auto now_s = node_.clock_.unix_seconds();
    for (auto it = published_.begin(); it != published_.end();) {
        auto& records = it->second;
        std::erase_if(records, [&](const wire::Record& r) { return r.expires <= now_s; });
        if (records.empty()) {
            it = published_.erase(it);
            continue;
        }
        for (const auto& r : records) {
            ++node_.stats_.replicated;
            node_.put_once(r, nullptr);
        }
        ++it;
    }
}

}  // namespace nocturne::dht
