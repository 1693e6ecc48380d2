#include <nocturne/gossip/gossip_service.hpp>

#include <algorithm>
#include <map>
#include <string>

#include "gossip_limits.hpp"

namespace nocturne::gossip {

using namespace detail;

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
        if (held_until > now) set_.add(id, r, *cls, held_until);
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
    if (held_until > now) set_.add(id, record, cls, held_until);
    // Never forward what this node would forget before it could come back: past its class's
    // lifetime, a copy is not spread.
    if (spread_it && seen_until(record, now, {}) > now) spread(id, cls, from);
}

void GossipService::spread(const ItemId& id, ItemClass cls, const NodeId& from) {
    std::set<NodeId> exclude{from, node_.id()};
    const bool eager = is_eager(cls);
    if (eager) {
        for (const auto& c : pick_peers(options_.eager_fanout, exclude)) {
            exclude.insert(c.id);
            if (take_copy(id)) enqueue(c, id, cls, true);
        }
    }
    auto lazy = pick_peers(options_.lazy_fanout, exclude);
    for (const auto& c : lazy) exclude.insert(c.id);
    // And this node's nearest neighbours: a node is known above all to the nodes nearest it,
    // and may be in no other table's near bucket; announcing costs an id, and a whole copy only
    // goes to those that lack the item. (Announced alone to lazy_fanout random peers, an item
    // misses about e^-4 of the nodes until anti-entropy; with these, e^-8.)
    for (const auto& p : node_.table().closest_n(node_.id(), options_.near_fanout + 2)) {
        if (lazy.size() >= options_.lazy_fanout + options_.near_fanout) break;
        if (exclude.insert(p.id).second) lazy.push_back({p.id, p.address});
    }
    if (lazy.empty()) return;
    if (eager) {
        delayed_.push_back({clock_.now() + options_.announce_delay, id, cls, std::move(lazy)});
        return;
    }
    for (const auto& c : lazy) enqueue(c, id, cls, false);
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
                                        const NodeId& from) {
    const auto now = clock_.now();
    const auto now_s = clock_.unix_seconds();
    std::uint32_t fresh = 0;
    admitting_ = true;
    if (!credentials.empty()) {
        // Credentials that are also items are judged as items (and spread as such).
        std::vector<wire::Record> others;
        for (const auto& c : credentials) {
            if (std::none_of(items.begin(), items.end(),
                             [&](const wire::Record& i) { return i.sig == c.sig; })) {
                others.push_back(c);
            }
        }
        trust_.learn_all(others, now_s);
    }
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
        // Certificates were learned with the credentials above. A revocation's or a quarantine's
        // signers are judged as they stood at its time, which the credentials may show.
        const bool threshold = *cls == ItemClass::revocation || *cls == ItemClass::quarantine;
        const auto ec =
            trust_.learn(record, now_s, threshold ? credentials : std::span<const wire::Record>{});
        if ((ec == errc::operator_revoked && *cls == ItemClass::revocation) ||
            (ec == errc::stale_seq && *cls == ItemClass::quarantine)) {
            // Another revocation of an operator already revoked, an order older than the one
            // that stands: nothing new.
            ++st.duplicates;
            continue;
        }
        if (ec) {
            ++st.refused;
            // A report that does not prove what it claims: no honest node forwards one (each
            // verifies before it forwards), so the sender is not heard for a while.
            if (ec == errc::invalid_evidence && from != node_.id()) discourage(from);
            continue;
        }
        ++st.received;
        ++fresh;
        // Revocations need revocation_threshold operators; anything else one operator signs
        // alone, as often as it likes (a new agent certificate each second, say): what one
        // author gets spread is metered, the rest is kept for anti-entropy and counted as shed.
        // Only what is new to the mesh travels by push: an old item (what a reconciliation after
        // a long absence gives, a replay) is kept, not forwarded; who lacks it catches up. A new
        // one is spread however it came: one that a reconciliation brought before the push did
        // (they race) would otherwise stop here, and this node's peers wait for their own sync.
        bool spread_it =
            Clock::time_point{std::chrono::seconds{record.created}} >= now - options_.origin_window;
        if (spread_it && *cls != ItemClass::revocation && !author_allows(record.author)) {
            ++st.shed;
            spread_it = false;
        }
        accept(id, record, *cls, spread_it, from);
    }
    admitting_ = false;
    if (fresh > 0) flush_ready();
    return fresh;
}

bool GossipService::author_allows(const crypto::PublicKey& author) {
    const auto now = clock_.now();
    if (authors_.size() >= max_buckets && authors_.count(author) == 0) authors_.clear();
    auto it = authors_.try_emplace(author, options_.author_rate, options_.author_burst, now).first;
    return it->second.try_take(now);
}

// ---- serving peers --------------------------------------------------------------------------

void GossipService::discourage(const NodeId& peer) {
    if (discouraged_.size() >= max_buckets && !discouraged_.contains(peer)) {
        // The one nearest its end goes: minting ids does not wipe the others.
        discouraged_.erase(
            std::min_element(discouraged_.begin(), discouraged_.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    discouraged_[peer] = clock_.now() + discourage_time;
    ++stats_.discouraged_peers;
}

bool GossipService::admit_cost(const dht::InboundMessage& msg, std::size_t cost) {
    const auto now = clock_.now();
    if (const auto d = discouraged_.find(msg.from.id); d != discouraged_.end()) {
        if (now < d->second) {
            node_.reply(msg, wire::ErrorReply{msg.id, errc::invalid_evidence,
                                              "gossip: you sent a report whose evidence does not "
                                              "prove the violation; not heard for an hour"});
            return false;
        }
        discouraged_.erase(d);
    }
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
    // A report costs a verification per record of evidence: about one per KiB.
    std::size_t revocations = 0;
    std::size_t cost = g.items.size();
    for (const auto& r : g.items) {
        if (r.kind == wire::RecordKind::revocation || r.kind == wire::RecordKind::quarantine) {
            ++revocations;
        }
        if (r.kind == wire::RecordKind::anomaly) cost += r.payload.size() / 1024;
    }
    if (!admit_cost(msg, cost + g.credentials.size() * (1 + revocations))) return;
    wire::GossipAck ack;
    ack.accepted = take_items(g.items, g.credentials, msg.from.id);
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

// ---- time -----------------------------------------------------------------------------------

void GossipService::tick() {
    const auto now = clock_.now();
    if (now < last_tick_) {
        // The wall clock stepped back: every time kept on the old clock would wait that long.
        next_sync_ = std::min(next_sync_, now + options_.sync_period);
        next_expire_ = std::min(next_expire_, now + 1min);
        for (auto& [id, p] : peers_) p.not_before = std::min(p.not_before, now + max_session_wait);
        for (auto& s : sessions_) {
            s->deadline = std::min(s->deadline, now + options_.sync_deadline);
            s->not_before = std::min(s->not_before, now + max_session_wait);
        }
    }
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
        if (!cls || r.expires <= now_s) continue;
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
