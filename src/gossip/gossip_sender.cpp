// GossipService's send side: per-peer, per-class queues, the requests that empty them, and what
// their answers (acknowledgements, wants, "slow down") do to them.

#include <nocturne/gossip/gossip_service.hpp>

#include <algorithm>
#include <set>

#include "gossip_limits.hpp"

namespace nocturne::gossip {

using namespace detail;

// ---- sending --------------------------------------------------------------------------------

void GossipService::enqueue(const wire::Contact& to, const ItemId& id, ItemClass cls, bool whole) {
    auto it = peers_.find(to.id);
    if (it == peers_.end()) {
        if (peers_.size() >= options_.max_peers) {
            // Forget an idle peer, or else one that refuses our sends and holds no revocation
            // (what waits for it is shed, counted); with neither, this send is shed.
            auto idle = std::find_if(peers_.begin(), peers_.end(), [](const auto& p) {
                const auto& q = p.second;
                const auto revocations = q.whole[class_index(ItemClass::revocation)].size() +
                                         q.ids[class_index(ItemClass::revocation)].size();
                return q.in_flight == 0 && (q.queued == 0 || (q.backoffs > 0 && revocations == 0));
            });
            if (idle == peers_.end() && cls != ItemClass::revocation) {
                ++stats_.of(cls).shed;
                return;
            }
            if (idle != peers_.end()) {
                for (std::size_t c = 0; c < class_count; ++c) {
                    stats_.classes[c].shed +=
                        idle->second.whole[c].size() + idle->second.ids[c].size();
                }
                ready_.erase(idle->first);
                peers_.erase(idle);
            }
        }
        it = peers_.try_emplace(to.id).first;
        it->second.contact = to;
    }
    auto& peer = it->second;
    if (peer.queued >= options_.queue_capacity) {
        // Shed the lowest class waiting (its newest), if it is not above this one; a revocation
        // is never shed, and one always finds room.
        bool made_room = false;
        for (std::size_t c = class_count; c-- > 1 && c >= class_index(cls);) {
            for (auto* q : {&peer.ids[c], &peer.whole[c]}) {
                if (q->empty()) continue;
                q->pop_back();
                --peer.queued;
                ++stats_.classes[c].shed;
                made_room = true;
                break;
            }
            if (made_room) break;
        }
        if (!made_room && cls != ItemClass::revocation) {
            ++stats_.of(cls).shed;
            return;
        }
    }
    (whole ? peer.whole : peer.ids)[class_index(cls)].push_back({id, cls});
    ++peer.queued;
    ready_.insert(to.id);
}

void GossipService::flush(Peer& peer) {
    const auto now = clock_.now();
    while (peer.in_flight < options_.window && peer.queued > 0 && now >= peer.not_before) {
        const bool any_whole = std::any_of(peer.whole.begin(), peer.whole.end(),
                                           [](const auto& q) { return !q.empty(); });
        // Whole items first when the highest class waiting has some: a revocation is pushed
        // before any announcement.
        std::size_t top_whole = class_count, top_ids = class_count;
        for (std::size_t c = 0; c < class_count; ++c) {
            if (top_whole == class_count && !peer.whole[c].empty()) top_whole = c;
            if (top_ids == class_count && !peer.ids[c].empty()) top_ids = c;
        }
        if (any_whole && top_whole <= top_ids) {
            send_whole(peer);
        } else {
            send_ids(peer);
        }
    }
}

void GossipService::send_whole(Peer& peer) {
    wire::Gossip g;
    std::vector<Outgoing> sent;
    std::size_t bytes = 0;
    const auto max_items = node_.config().limits.max_gossip_items;
    for (auto& q : peer.whole) {
        while (!q.empty() && g.items.size() < max_items) {
            const auto out = q.front();
            const auto* r = find(out.id);
            if (r != nullptr && bytes + record_bytes(*r) > max_item_bytes && !g.items.empty()) {
                break;
            }
            q.pop_front();
            --peer.queued;
            if (r == nullptr) continue;  // expired meanwhile
            bytes += record_bytes(*r);
            g.items.push_back(*r);
            sent.push_back(out);
        }
    }
    if (g.items.empty()) return;
    g.credentials = node_.credentials_for(g.items);
    ++peer.in_flight;
    const auto to = peer.contact;
    std::weak_ptr<char> alive = alive_;
    node_.request(to, std::move(g), [this, alive, to, sent](const dht::InboundMessage* answer) {
        if (alive.expired()) return;
        auto it = peers_.find(to.id);
        if (it == peers_.end()) return;
        auto& p = it->second;
        if (p.in_flight > 0) --p.in_flight;
        const auto* e = answer ? std::get_if<wire::ErrorReply>(&answer->payload) : nullptr;
        if (e != nullptr && e->code == errc::rate_limited) {
            // Still over the peer's rate after the RPC layer's resends: wait, then send again.
            requeue_front(p, sent, true);
            back_off(p, answer);
        } else if (answer == nullptr) {
            // No answer in time: a peer busy with honest load (or a session still being set up)
            // gets the batch again after a pause; only one that fails again and again has its
            // queue shed, and anti-entropy repairs that. Duplicates cost the peer a seen-check.
            ++stats_.failed_sends;
            retry_unanswered(p, sent, true);
            back_off(p, nullptr);
        } else {
            // Counted once answered, so that the counter never goes back (it is exported as a
            // Prometheus counter).
            for (const auto& s : sent) ++stats_.of(s.cls).forwarded;
            if (e == nullptr) p.backoffs = 0;
        }
        settle(to.id);
    });
}

void GossipService::send_ids(Peer& peer) {
    wire::IHave have;
    std::vector<Outgoing> sent;
    const auto max_ids = node_.config().limits.max_gossip_ids;
    for (auto& q : peer.ids) {
        while (!q.empty() && have.ids.size() < max_ids) {
            const auto out = q.front();
            q.pop_front();
            --peer.queued;
            if (find(out.id) == nullptr) continue;
            have.ids.push_back(out.id);
            sent.push_back(out);
        }
    }
    if (have.ids.empty()) return;
    ++peer.in_flight;
    const auto to = peer.contact;
    std::weak_ptr<char> alive = alive_;
    node_.request(to, std::move(have), [this, alive, to, sent](const dht::InboundMessage* answer) {
        if (alive.expired()) return;
        auto it = peers_.find(to.id);
        if (it == peers_.end()) return;
        auto& p = it->second;
        if (p.in_flight > 0) --p.in_flight;
        if (answer == nullptr) {
            ++stats_.failed_sends;
            retry_unanswered(p, sent, false);
            back_off(p, nullptr);
            settle(to.id);
            return;
        }
        if (const auto* e = std::get_if<wire::ErrorReply>(&answer->payload)) {
            if (e->code == errc::rate_limited) {
                requeue_front(p, sent, false);
                back_off(p, answer);
            } else {
                for (const auto& s : sent) ++stats_.of(s.cls).announced;
            }
            settle(to.id);
            return;
        }
        for (const auto& s : sent) ++stats_.of(s.cls).announced;
        p.backoffs = 0;
        const auto& ack =
            std::get<wire::GossipAck>(std::get<wire::Response>(answer->payload).result);
        // Push only what was announced to this peer and is still held.
        std::set<ItemId> wanted(ack.want.begin(), ack.want.end());
        for (const auto& s : sent) {
            if (wanted.count(s.id) != 0 && take_copy(s.id)) enqueue(to, s.id, s.cls, true);
        }
        settle(to.id);
    });
}

void GossipService::requeue_front(Peer& peer, const std::vector<Outgoing>& items, bool whole) {
    auto& queues = whole ? peer.whole : peer.ids;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
        queues[class_index(it->cls)].push_front(*it);
        ++peer.queued;
    }
    // What came back may not take the queue past its capacity (enqueue filled it meanwhile):
    // the lowest class waiting loses its newest, never a revocation.
    for (std::size_t c = class_count; peer.queued > options_.queue_capacity && c-- > 1;) {
        for (auto* q : {&peer.ids[c], &peer.whole[c]}) {
            while (peer.queued > options_.queue_capacity && !q->empty()) {
                q->pop_back();
                --peer.queued;
                ++stats_.classes[c].shed;
            }
        }
    }
}

void GossipService::retry_unanswered(Peer& peer, const std::vector<Outgoing>& items, bool whole) {
    // Each item goes to one peer a few times at most, whatever the peer answers to our other
    // requests (a peer that acknowledges announcements but never pushes cannot keep us sending
    // the same batch): then it is shed, and the peer catches up by anti-entropy.
    std::vector<Outgoing> again;
    for (auto out : items) {
        if (++out.unanswered < max_unanswered_sends) {
            again.push_back(out);
        } else {
            ++stats_.of(out.cls).shed;
        }
    }
    requeue_front(peer, again, whole);
}

void GossipService::back_off(Peer& peer, const dht::InboundMessage* answer) {
    if (answer != nullptr) ++stats_.slowed_by_peers;
    // A peer that keeps refusing (or not answering) does not keep our queue for it: after so many
    // in a row what waits for it is shed; revocations too when it stopped answering (it may be
    // gone for good; on its return it catches up by anti-entropy).
    if (++peer.backoffs >= max_peer_backoffs) {
        peer.backoffs = 0;
        for (std::size_t c = answer == nullptr ? 0 : 1; c < class_count; ++c) {
            for (auto* q : {&peer.whole[c], &peer.ids[c]}) {
                stats_.classes[c].shed += q->size();
                peer.queued -= q->size();
                q->clear();
            }
        }
    }
    std::uint32_t ms = 1000;
    const auto* e = answer ? std::get_if<wire::ErrorReply>(&answer->payload) : nullptr;
    if (e != nullptr && e->retry_after_ms) {
        ms = e->retry_after_ms;
    }
    peer.not_before = clock_.now() + std::chrono::milliseconds(ms);
}

void GossipService::settle(const NodeId& id) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    auto& p = it->second;
    // The window has room again: the next batch goes now, not at the next tick.
    if (p.queued > 0) {
        ready_.insert(id);
        flush(p);
    }
    // A peer with nothing waiting or in flight is forgotten: its queues cost memory (a node
    // pushes to a few new peers with every item). A back-off is forgotten with it.
    if (p.queued == 0 && p.in_flight == 0) {
        ready_.erase(id);
        peers_.erase(it);
    }
}

void GossipService::flush_ready() {
    for (auto it = ready_.begin(); it != ready_.end();) {
        auto p = peers_.find(*it);
        if (p == peers_.end() || p->second.queued == 0) {
            it = ready_.erase(it);
            continue;
        }
        flush(p->second);
        it = p->second.queued == 0 ? ready_.erase(it) : std::next(it);
    }
}

}  // namespace nocturne::gossip
