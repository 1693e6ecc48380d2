#include <nocturne/gossip/gossip_service.hpp>

#include <algorithm>
#include <map>
#include <string>

namespace nocturne::gossip {
namespace {

using namespace std::chrono_literals;

std::size_t index(ItemClass c) {
    return static_cast<std::size_t>(c);
}

// What one request costs in tokens of its sender's bucket: items are validated (signatures),
// ids are looked up, and what an IWANT or SYNC makes us send is paid for by its size (no
// amplification: an item sent costs what an item received does).
constexpr std::size_t ids_per_token = 32;
constexpr std::size_t sync_cost = 8;
constexpr std::size_t ranges_per_token = 4;
// Encoded bytes of whole items in one GOSSIP or IWANT answer: a frame is 256 KiB, and the items
// are escaped once more inside the envelope's body, next to their credentials.
constexpr std::size_t max_item_bytes = 128 * 1024;
// Peers whose buckets are kept; beyond, the oldest half is forgotten (a forgotten peer starts
// again with a full bucket, which is all an id-minting peer gains).
constexpr std::size_t max_buckets = 8192;
// A tick later than this after the previous one means the node was away (suspended, offline):
// it catches up at once.
constexpr auto away_gap = 2min;
// Items whose whole copies sent are counted (max_copies), at most.
constexpr std::size_t max_copy_counts = 65'536;
// Items one reconciliation pushes to the peer it reconciles with, at most.
constexpr std::size_t max_gives_per_sync = 512;
// A reconciliation told to slow down waits at most this long each time, and gives up after so
// many times (a peer cannot hold our few reconciliation slots for hours).
constexpr std::size_t max_session_backoffs = 8;
// Refusals in a row after which what waits for a peer is shed (revocations excepted).
constexpr std::size_t max_peer_backoffs = 5;
constexpr Clock::duration max_session_wait = 30s;

std::size_t record_bytes(const wire::Record& r) {
    return wire::encode_record(r).size();
}

}  // namespace

GossipService::GossipService(dht::Node& node, trust::TrustState& trust, const Clock& clock,
                             GossipOptions options)
    : node_(node),
      trust_(trust),
      clock_(clock),
      options_(options),
      rng_(options.seed != 0 ? options.seed : std::random_device{}()),
      seen_(options.seen_capacity) {
    const auto now = clock_.now();
    for (const auto& r : trust_.records()) {
        const auto cls = class_of(r.kind);
        if (!cls) continue;
        const auto id = item_id(r);
        seen_.insert(id, *cls, seen_until(r, now, options_.seen_floor));
        const auto held_until = seen_until(r, now, {});
        if (is_reconciled(*cls) && held_until > now) set_.add(id, r, *cls, held_until);
    }
    node_.serve(wire::MessageType::gossip, [this](const auto& m) { serve_gossip(m); });
    node_.serve(wire::MessageType::ihave, [this](const auto& m) { serve_ihave(m); });
    node_.serve(wire::MessageType::iwant, [this](const auto& m) { serve_iwant(m); });
    node_.serve(wire::MessageType::sync, [this](const auto& m) { serve_sync(m); });
    const auto jitter = std::uniform_int_distribution<std::int64_t>(
        0,
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.sync_period).count())(rng_);
    next_sync_ = now + std::chrono::milliseconds(jitter);
    next_expire_ = now + 1min;
    last_tick_ = now;
}

GossipService::~GossipService() {
    for (auto t : {wire::MessageType::gossip, wire::MessageType::ihave, wire::MessageType::iwant,
                   wire::MessageType::sync}) {
        node_.serve(t, nullptr);
    }
}

std::size_t GossipService::queued() const {
    std::size_t n = 0;
    for (const auto& [id, p] : peers_) n += p.queued;
    return n;
}

// ---- items ----------------------------------------------------------------------------------

void GossipService::offer(const wire::Record& record) {
    const auto cls = class_of(record.kind);
    if (!cls) return;
    const auto id = item_id(record);
    if (seen_.contains(id)) return;
    const auto now = clock_.now();
    // While gossip itself learns items (take_items), what the TrustState learns on the way (the
    // credentials that came along) is kept, not spread: take_items spreads the items it judged.
    bool fresh = !admitting_ && Clock::time_point{std::chrono::seconds{record.created}} >=
                                    now - options_.origin_window;
    if (fresh && *cls != ItemClass::revocation && !author_allows(record.author)) {
        ++stats_.of(*cls).shed;
        fresh = false;
    }
    accept(id, record, *cls, fresh, node_.id());
    // At once, not at the host's next tick: every hop would wait for one otherwise.
    flush_ready();
}

void GossipService::accept(const ItemId& id, const wire::Record& record, ItemClass cls,
                           bool spread_it, const NodeId& from) {
    const auto now = clock_.now();
    seen_.insert(id, cls, seen_until(record, now, options_.seen_floor));
    const auto held_until = seen_until(record, now, {});
    if (is_reconciled(cls) && held_until > now) set_.add(id, record, cls, held_until);
    // Never forward what this node would forget before it could come back: past its class's
    // lifetime, a copy is not spread.
    if (spread_it && seen_until(record, now, {}) > now) spread(id, cls, from);
}

void GossipService::spread(const ItemId& id, ItemClass cls, const NodeId& from) {
    std::set<NodeId> exclude{from, node_.id()};
    if (is_eager(cls)) {
        for (const auto& c : pick_peers(options_.eager_fanout, exclude)) {
            exclude.insert(c.id);
            if (take_copy(id)) enqueue(c, id, cls, true);
        }
        auto lazy = pick_peers(options_.lazy_fanout, exclude);
        for (const auto& c : lazy) exclude.insert(c.id);
        // And this node's nearest neighbours: a node is known above all to the nodes nearest it,
        // and may be in no other table's near bucket; announcing costs an id, and a whole copy
        // only goes to those that lack the item.
        for (const auto& p : node_.table().closest_n(node_.id(), options_.near_fanout + 2)) {
            if (lazy.size() >= options_.lazy_fanout + options_.near_fanout) break;
            if (exclude.insert(p.id).second) lazy.push_back({p.id, p.address});
        }
        if (!lazy.empty()) {
            delayed_.push_back({clock_.now() + options_.announce_delay, id, cls, std::move(lazy)});
        }
        return;
    }
    for (const auto& c : pick_peers(options_.lazy_fanout, exclude)) enqueue(c, id, cls, false);
}

bool GossipService::take_copy(const ItemId& id) {
    // Counts are needed while an item spreads (seconds); the map is cleared when it grows, which
    // at worst lets an old item be pulled again.
    if (copies_.size() >= max_copy_counts) copies_.clear();
    auto& n = copies_[id];
    if (n >= options_.max_copies) return false;
    ++n;
    return true;
}

std::vector<wire::Contact> GossipService::pick_peers(std::size_t n,
                                                     const std::set<NodeId>& exclude) {
    // One random peer per bucket, the buckets in random order, then again while n are not found.
    // Uniform over the table would rarely pick a node from the near buckets, which hold few
    // peers each: yet a node is in the tables of the nodes near it above all (a newcomer is in
    // few far buckets), and random pushes alone leave such nodes out (Kadcast, which sends into
    // every bucket, reaches them all).
    std::map<std::size_t, std::vector<dht::PeerInfo>> buckets;
    for (auto& p : node_.table().all_peers()) {
        if (exclude.count(p.id) == 0)
            buckets[bucket_index(node_.id(), p.id)].push_back(std::move(p));
    }
    std::vector<std::vector<dht::PeerInfo>*> order;
    for (auto& [b, peers] : buckets) order.push_back(&peers);
    std::shuffle(order.begin(), order.end(), rng_);
    std::vector<wire::Contact> out;
    for (bool any = true; any && out.size() < n;) {
        any = false;
        for (auto* peers : order) {
            if (peers->empty() || out.size() >= n) continue;
            const auto j = std::uniform_int_distribution<std::size_t>(0, peers->size() - 1)(rng_);
            out.push_back({(*peers)[j].id, (*peers)[j].address});
            (*peers)[j] = std::move(peers->back());
            peers->pop_back();
            any = true;
        }
    }
    return out;
}

const wire::Record* GossipService::find(const ItemId& id) const {
    return set_.find(id);
}

std::uint32_t GossipService::take_items(std::span<const wire::Record> items,
                                        std::span<const wire::Record> credentials,
                                        const NodeId& from, bool forward) {
    const auto now = clock_.now();
    const auto now_s = clock_.unix_seconds();
    std::uint32_t fresh = 0;
    admitting_ = true;
    if (!credentials.empty()) trust_.learn_all(credentials, now_s);
    for (const auto& record : items) {
        const auto cls = class_of(record.kind);
        if (!cls) {
            ++stats_.not_gossiped;
            continue;
        }
        auto& st = stats_.of(*cls);
        const auto id = item_id(record);
        if (seen_.contains(id) || trust_.knows(record)) {
            ++st.duplicates;
            continue;
        }
        // Certificates were learned with the credentials above; a revocation's signers are
        // judged as they stood at its time, which the credentials may show.
        const auto ec = trust_.learn(
            record, now_s,
            *cls == ItemClass::revocation ? credentials : std::span<const wire::Record>{});
        if (ec == errc::operator_revoked && *cls == ItemClass::revocation) {
            // Another revocation of an operator already revoked: nothing new.
            ++st.duplicates;
            continue;
        }
        if (ec) {
            ++st.refused;
            continue;
        }
        ++st.received;
        ++fresh;
        // Revocations need revocation_threshold operators; anything else one operator signs
        // alone, as often as it likes (a new agent certificate each second, say): what one
        // author gets spread is metered, the rest is kept for anti-entropy and counted as shed.
        bool spread_it = forward;
        if (spread_it && *cls != ItemClass::revocation && !author_allows(record.author)) {
            ++st.shed;
            spread_it = false;
        }
        accept(id, record, *cls, spread_it, from);
    }
    admitting_ = false;
    (void)now;
    if (forward && fresh > 0) flush_ready();
    return fresh;
}

bool GossipService::author_allows(const crypto::PublicKey& author) {
    const auto now = clock_.now();
    if (authors_.size() >= max_buckets && authors_.count(author) == 0) authors_.clear();
    auto it = authors_.try_emplace(author, options_.author_rate, options_.author_burst, now).first;
    return it->second.try_take(now);
}

// ---- serving peers --------------------------------------------------------------------------

bool GossipService::admit_cost(const dht::InboundMessage& msg, std::size_t cost) {
    const auto now = clock_.now();
    if (buckets_.size() >= max_buckets && buckets_.count(msg.from.id) == 0) {
        for (auto it = buckets_.begin();
             it != buckets_.end() && buckets_.size() > max_buckets / 2;) {
            it = buckets_.erase(it);
        }
    }
    auto it = buckets_.try_emplace(msg.from.id, options_.peer_rate, options_.peer_burst, now).first;
    const auto tokens = static_cast<double>(std::max<std::size_t>(cost, 1));
    if (it->second.try_take(now, tokens)) return true;
    ++stats_.slowed_peers;
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(it->second.wait(now, tokens)) + 1ms;
    wire::ErrorReply e{msg.id, errc::rate_limited,
                       "gossip: over " + std::to_string(static_cast<int>(options_.peer_rate)) +
                           " items per second"};
    e.retry_after_ms =
        static_cast<std::uint32_t>(std::min<std::int64_t>(wait.count(), wire::max_retry_after_ms));
    node_.reply(msg, std::move(e));
    return false;
}

void GossipService::serve_gossip(const dht::InboundMessage& msg) {
    const auto& g = std::get<wire::Gossip>(msg.payload);
    // A revocation may judge every credential that came along (its signers as they stood at its
    // time): credentials cost once per revocation in the message.
    const auto revocations =
        static_cast<std::size_t>(std::count_if(g.items.begin(), g.items.end(), [](const auto& r) {
            return r.kind == wire::RecordKind::revocation;
        }));
    if (!admit_cost(msg, g.items.size() + g.credentials.size() * (1 + revocations))) return;
    wire::GossipAck ack;
    ack.accepted = take_items(g.items, g.credentials, msg.from.id, true);
    node_.reply(msg, wire::Response{msg.id, std::move(ack)});
}

void GossipService::serve_ihave(const dht::InboundMessage& msg) {
    const auto& have = std::get<wire::IHave>(msg.payload);
    if (!admit_cost(msg, 1 + have.ids.size() / ids_per_token)) return;
    wire::GossipAck ack;
    for (const auto& id : have.ids) {
        if (!seen_.contains(id) && !set_.contains(id)) ack.want.push_back(id);
    }
    node_.reply(msg, wire::Response{msg.id, std::move(ack)});
}

void GossipService::serve_iwant(const dht::InboundMessage& msg) {
    const auto& want = std::get<wire::IWant>(msg.payload);
    if (!admit_cost(msg, 1 + std::min(want.ids.size(), node_.config().limits.max_gossip_items))) {
        return;
    }
    wire::ItemsResult out;
    std::size_t bytes = 0;
    for (const auto& id : want.ids) {
        const auto* r = find(id);
        if (r == nullptr) continue;
        if (out.items.size() >= node_.config().limits.max_gossip_items ||
            bytes + record_bytes(*r) > max_item_bytes) {
            break;
        }
        bytes += record_bytes(*r);
        out.items.push_back(*r);
    }
    out.credentials = node_.credentials_for(out.items);
    node_.reply(msg, wire::Response{msg.id, std::move(out)});
}

void GossipService::serve_sync(const dht::InboundMessage& msg) {
    const auto& sync = std::get<wire::Sync>(msg.payload);
    // Charged for what it asks and for what the answer carries (ids and ranges): a small SYNC
    // that draws a long list pays for the list.
    auto answer = answer_sync(set_, sync, options_.reconcile);
    const auto cost = sync_cost + (sync.ranges.size() + answer.ranges.size()) / ranges_per_token +
                      answer.ids.size() / ids_per_token;
    if (!admit_cost(msg, cost)) return;
    node_.reply(msg, wire::Response{msg.id, std::move(answer)});
}

// ---- sending --------------------------------------------------------------------------------

void GossipService::enqueue(const wire::Contact& to, const ItemId& id, ItemClass cls, bool whole) {
    auto it = peers_.find(to.id);
    if (it == peers_.end()) {
        if (peers_.size() >= options_.max_peers) {
            // Forget an idle peer, or else one that refuses our sends; with neither, this send
            // is shed.
            auto idle = std::find_if(peers_.begin(), peers_.end(), [](const auto& p) {
                return (p.second.queued == 0 && p.second.in_flight == 0) || p.second.backoffs > 0;
            });
            if (idle != peers_.end() && idle->second.in_flight > 0) idle = peers_.end();
            if (idle == peers_.end() && cls != ItemClass::revocation) {
                ++stats_.of(cls).shed;
                return;
            }
            if (idle != peers_.end()) peers_.erase(idle);
        }
        it = peers_.try_emplace(to.id).first;
        it->second.contact = to;
    }
    auto& peer = it->second;
    if (peer.queued >= options_.queue_capacity) {
        // Shed the lowest class waiting (its newest), if it is not above this one; a revocation
        // is never shed, and one always finds room.
        bool made_room = false;
        for (std::size_t c = class_count; c-- > 1 && c >= index(cls);) {
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
    (whole ? peer.whole : peer.ids)[index(cls)].push_back({id, cls});
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
    for (const auto& s : sent) ++stats_.of(s.cls).forwarded;
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
            ++stats_.failed_sends;
        } else if (e == nullptr) {
            p.backoffs = 0;
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
    for (const auto& s : sent) ++stats_.of(s.cls).announced;
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
            settle(to.id);
            return;
        }
        if (const auto* e = std::get_if<wire::ErrorReply>(&answer->payload)) {
            if (e->code == errc::rate_limited) {
                requeue_front(p, sent, false);
                back_off(p, answer);
            }
            settle(to.id);
            return;
        }
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
        queues[index(it->cls)].push_front(*it);
        ++peer.queued;
    }
}

void GossipService::back_off(Peer& peer, const dht::InboundMessage* answer) {
    ++stats_.slowed_by_peers;
    // A peer that keeps refusing does not keep our queue for it: after so many refusals in a row
    // what waits for it is shed, revocations excepted.
    if (++peer.backoffs >= max_peer_backoffs) {
        peer.backoffs = 0;
        for (std::size_t c = 1; c < class_count; ++c) {
            for (auto* q : {&peer.whole[c], &peer.ids[c]}) {
                stats_.classes[c].shed += q->size();
                peer.queued -= q->size();
                q->clear();
            }
        }
    }
    std::uint32_t ms = 1000;
    if (const auto* e = std::get_if<wire::ErrorReply>(&answer->payload); e && e->retry_after_ms) {
        ms = e->retry_after_ms;
    }
    peer.not_before = clock_.now() + std::chrono::milliseconds(ms);
}

// ---- anti-entropy ---------------------------------------------------------------------------

void GossipService::catch_up(std::size_t n) {
    for (const auto& c : pick_peers(n, {node_.id()})) start_sync(c, false);
}

void GossipService::start_sync(const wire::Contact& peer, bool check_first) {
    if (sessions_.size() >= options_.max_syncs) return;
    auto s = std::make_shared<SyncSession>();
    s->peer = peer;
    s->checking = check_first;
    s->deadline = clock_.now() + options_.sync_deadline;
    sessions_.push_back(s);
    // A periodic SYNC first compares whole sets (one range: nothing to do, the usual case); one
    // that catches up opens with the fine ranges at once.
    if (check_first) {
        queue_syncs(*s, {set_.range("")}, 1);
    } else {
        queue_syncs(*s, set_.opening(options_.reconcile.list_max), options_.reconcile.max_ranges);
    }
    pump(s);
}

void GossipService::queue_syncs(SyncSession& s, std::vector<wire::SyncRange> ranges,
                                std::size_t per_request) {
    for (auto& r : requests_for(std::move(ranges), per_request))
        s.backlog.emplace_back(std::move(r));
}

void GossipService::pump(const std::shared_ptr<SyncSession>& s) {
    std::weak_ptr<char> alive = alive_;
    const auto now = clock_.now();
    // A few requests at once: all of a large catch-up at once would only run into the peer's
    // rate limit.
    while (!s->done && s->in_flight < options_.sync_window && !s->backlog.empty() &&
           now >= s->not_before) {
        auto request = std::move(s->backlog.front());
        s->backlog.pop_front();
        const bool is_sync = std::holds_alternative<wire::Sync>(request);
        ++s->in_flight;
        if (is_sync) ++s->syncs_in_flight;
        auto copy = request;
        node_.request(s->peer, std::move(copy),
                      [this, alive, s, is_sync,
                       request = std::move(request)](const dht::InboundMessage* answer) {
                          if (alive.expired() || s->done) return;
                          --s->in_flight;
                          if (is_sync) --s->syncs_in_flight;
                          on_session_answer(s, request, answer);
                          pump(s);
                      });
    }
    if (!s->done && s->in_flight == 0 && s->backlog.empty()) finish(s, true);
}

void GossipService::on_session_answer(const std::shared_ptr<SyncSession>& s,
                                      const wire::Payload& request,
                                      const dht::InboundMessage* answer) {
    if (answer == nullptr) {
        ++stats_.failed_sends;
        s->failed = true;
        s->backlog.clear();  // the peer is gone: another sync, another peer
        return;
    }
    if (const auto* e = std::get_if<wire::ErrorReply>(&answer->payload)) {
        if (e->code == errc::rate_limited && ++s->backoffs <= max_session_backoffs) {
            // Over the peer's rate even after the RPC layer's resends: again later.
            ++stats_.slowed_by_peers;
            s->backlog.push_front(request);
            s->not_before =
                clock_.now() + std::min<Clock::duration>(
                                   std::chrono::milliseconds(e->retry_after_ms), max_session_wait);
            return;
        }
        s->failed = true;
        s->backlog.clear();
        return;
    }
    const auto& resp = std::get<wire::Response>(answer->payload);
    if (const auto* items = std::get_if<wire::ItemsResult>(&resp.result)) {
        const auto& asked = std::get<wire::IWant>(request).ids;
        std::set<ItemId> missing(asked.begin(), asked.end());
        std::vector<wire::Record> got;
        for (const auto& r : items->items) {
            if (missing.erase(item_id(r)) != 0) got.push_back(r);
        }
        stats_.synced_items += take_items(got, items->credentials, s->peer.id, false);
        // An answer cut short by its size: ask for the rest.
        if (!got.empty() && !missing.empty()) {
            s->backlog.emplace_back(wire::IWant{{missing.begin(), missing.end()}});
        }
        return;
    }
    const auto& asked = std::get<wire::Sync>(request);
    auto step = follow_sync(set_, asked, std::get<wire::SyncResult>(resp.result));
    // What we lack: IWANTs of an answer's worth each.
    const auto per_want = node_.config().limits.max_gossip_items;
    for (std::size_t at = 0; at < step.want.size(); at += per_want) {
        wire::IWant want;
        want.ids.assign(step.want.begin() + static_cast<std::ptrdiff_t>(at),
                        step.want.begin() +
                            static_cast<std::ptrdiff_t>(std::min(step.want.size(), at + per_want)));
        s->backlog.emplace_back(std::move(want));
    }
    // What the peer lacks, pushed; a peer that lacks much (a new node) fetches the rest itself
    // when it syncs: our queue to it is not filled with our whole set.
    for (const auto& id : step.give) {
        if (s->given >= max_gives_per_sync) break;
        if (const auto* r = set_.find(id)) {
            enqueue(s->peer, id, *class_of(r->kind), true);
            ++s->given;
        }
    }
    if (s->given > 0) settle(s->peer.id);
    if (s->checking) {
        // The whole sets differ: open with the fine ranges.
        s->checking = false;
        if (!step.next.empty()) {
            ++s->round;
            queue_syncs(*s, set_.opening(options_.reconcile.list_max),
                        options_.reconcile.max_ranges);
        }
        return;
    }
    s->next.insert(s->next.end(), std::make_move_iterator(step.next.begin()),
                   std::make_move_iterator(step.next.end()));
    // The next round once this one's SYNCs are all answered (IWANTs may still be going).
    const bool round_done = s->syncs_in_flight == 0 &&
                            std::none_of(s->backlog.begin(), s->backlog.end(), [](const auto& p) {
                                return std::holds_alternative<wire::Sync>(p);
                            });
    if (round_done && !s->next.empty() && s->round + 1 < options_.sync_rounds) {
        ++s->round;
        queue_syncs(*s, std::exchange(s->next, {}), options_.reconcile.follow_up_ranges);
    }
}

void GossipService::finish(const std::shared_ptr<SyncSession>& s, bool completed) {
    if (s->done) return;
    s->done = true;
    if (completed && !s->failed) ++stats_.syncs;
    sessions_.erase(std::remove(sessions_.begin(), sessions_.end(), s), sessions_.end());
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
    // A peer with nothing waiting, in flight or to wait for is forgotten: its queues cost memory
    // (a node pushes to a few new peers with every item).
    if (p.queued == 0 && p.in_flight == 0 && p.not_before <= clock_.now()) {
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

// ---- time -----------------------------------------------------------------------------------

void GossipService::tick() {
    const auto now = clock_.now();
    if (now - last_tick_ > away_gap) catch_up();
    last_tick_ = now;
    while (!delayed_.empty() && delayed_.front().at <= now) {
        const auto d = std::move(delayed_.front());
        delayed_.pop_front();
        for (const auto& c : d.to) enqueue(c, d.id, d.cls, false);
    }
    flush_ready();
    for (const auto& s : std::vector<std::shared_ptr<SyncSession>>(sessions_)) {
        if (now >= s->deadline) {
            finish(s, false);
        } else if (now >= s->not_before) {
            pump(s);
        }
    }
    if (now >= next_sync_) {
        refresh_set();
        for (const auto& c : pick_peers(1, {node_.id()})) start_sync(c, true);
        next_sync_ = now + options_.sync_period;
    }
    if (now >= next_expire_) {
        seen_.expire(now);
        set_.expire(now);
        next_expire_ = now + 1min;
    }
}

void GossipService::refresh_set() {
    const auto now = clock_.now();
    const auto now_s = clock_.unix_seconds();
    ItemSet fresh;
    for (const auto& r : trust_.records()) {
        const auto cls = class_of(r.kind);
        if (!cls || !is_reconciled(*cls) || r.expires <= now_s) continue;
        const auto until = seen_until(r, now, {});
        if (until > now) fresh.add(item_id(r), r, *cls, until);
    }
    set_ = std::move(fresh);
}

Clock::time_point GossipService::next_wakeup() const {
    auto next = std::min(next_sync_, next_expire_);
    if (!delayed_.empty()) next = std::min(next, delayed_.front().at);
    for (const auto& id : ready_) {
        const auto it = peers_.find(id);
        if (it == peers_.end()) continue;
        const auto& p = it->second;
        if (p.queued > 0 && p.in_flight < options_.window) next = std::min(next, p.not_before);
    }
    for (const auto& s : sessions_) {
        next = std::min(next, s->deadline);
        if (!s->backlog.empty() && s->in_flight < options_.sync_window) {
            next = std::min(next, s->not_before);
        }
    }
    return next;
}

}  // namespace nocturne::gossip
