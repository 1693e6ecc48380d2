// GossipService's anti-entropy: reconciliations with one peer at a time (reconcile.hpp has the
// arithmetic), paced by a window, waiting out slow-downs, bounded by a deadline.

#include <nocturne/gossip/gossip_service.hpp>

#include <algorithm>
#include <set>
#include <utility>

#include "gossip_limits.hpp"

namespace nocturne::gossip {

using namespace detail;

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
    // A session that failed (its peer did not answer one request) takes no more work from the
    // answers still coming.
    if (s->failed) return;
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
        stats_.synced_items += take_items(got, items->credentials, s->peer.id);
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
            auto opening = set_.opening(options_.reconcile.list_max);
            if (opening.size() == 1) {
                // Our set is small: the opening is the check again; its answer's ranges it is.
                queue_syncs(*s, std::move(step.next), options_.reconcile.follow_up_ranges);
            } else {
                queue_syncs(*s, std::move(opening), options_.reconcile.max_ranges);
            }
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

}  // namespace nocturne::gossip
