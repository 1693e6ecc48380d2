#include <nocturne/anomaly/anomaly_service.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/vote/tally.hpp>
#include <nocturne/wire/limits.hpp>

#include <algorithm>

namespace nocturne::anomaly {
namespace {

NodeId node_id_of(const crypto::PublicKey& key) {
    return NodeId::from_public_key(key).value();
}

constexpr std::int64_t forget_period = 60;

}  // namespace

AnomalyService::AnomalyService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                               trust::TrustState& trust, AnomalyOptions options)
    : node_(node),
      keys_(keys),
      clock_(clock),
      trust_(trust),
      options_(options),
      accuracy_(options.accuracy) {
    node_.check_all_stores(
        [this](const wire::Record& r, const NodeId& from) { return check(r, from); });
}

AnomalyService::~AnomalyService() {
    node_.check_all_stores(nullptr);
}

std::error_code AnomalyService::check(const wire::Record& record, const NodeId& from) {
    const auto& rules = trust_.genesis().anomaly;
    if (record.kind == wire::RecordKind::vote && record.slot == "reveal") {
        // Its tally settles when the round's reveal window (and the storers' grace) is over.
        const vote::Windows w{trust_.genesis().vote_commit_seconds,
                              trust_.genesis().vote_reveal_seconds};
        // Only while it is open: a reveal that comes again after (replication, republishing)
        // must not have the round judged twice.
        const auto at = w.reveal_end(record.seq) + vote::grace_seconds(w);
        if (at > clock_.unix_seconds() && !settling_.contains(record.key) &&
            settling_.size() < max_settling) {
            settling_[record.key] = {record.seq, at};
        }
        return {};
    }
    Rule rule;
    if (record.kind == wire::RecordKind::vote && record.slot == "commit") {
        rule = {trust::AnomalyType::vote_burst,
                {},
                record.key.to_hex() + to_hex(record.author) + std::to_string(record.seq),
                trust::vote_burst_window_seconds,
                rules.vote_burst_per_minute};
    } else if (record.kind == wire::RecordKind::domain_announce) {
        rule = {trust::AnomalyType::domain_flood, record.key, record.slot,
                trust::domain_flood_window_seconds, rules.domain_flood_per_hour};
    } else {
        return {};
    }
    const auto now = clock_.unix_seconds();
    const auto author = node_id_of(record.author);
    // The policy has just accepted the author's standing; an agent with no certificate here has no
    // operator to count against.
    const auto* author_operator = trust_.operator_of(author);
    if (author_operator == nullptr) return {};
    const auto& operator_id = *author_operator;
    forget_old(now);

    // A record created within the window is counted at its creation (what a report can prove).
    // One created earlier that a replica passes on is old news: not counted. But one its author
    // sends itself may be backdated to slip past the rate: it counts at its arrival, against a
    // budget ten times the rate (a publisher re-sending its old entries to a new storer stays
    // within it), and is not reported (its time proves nothing).
    bool by_arrival = false;
    auto t = record.created;
    if (t < now - rule.window - wire::default_limits.max_clock_skew_seconds) {
        // From a replica of another operator: old news. From another of the author's own nodes:
        // as good as first-hand.
        if (from != author) {
            auto sender = trust_.agent_standing(from, now);
            if (!sender || sender->operator_id != operator_id) return {};
        }
        if (auto held = node_.records().find(store::RecordIdentity::of(record));
            held && held->has_value() && (*held)->sig == record.sig) {
            return {};  // held already: republishing
        }
        by_arrival = true;
        t = now;
        rule.limit *= 10;
    }
    auto* counted = group(Group{operator_id, rule.type, rule.key, by_arrival}, now);
    if (counted == nullptr) {
        // No room to count it (an operator spread over more groups than a node keeps): refused,
        // never forgotten, so that nobody resets its own counts by spreading.
        ++stats_.over_rate;
        if (options_.dry_run) return {};
        ++stats_.refused;
        return make_error_code(errc::over_operator_rate);
    }
    auto& list = *counted;
    for (auto& c : list) {
        if (c.sig == record.sig) return {};  // counted already (a replica, the author again)
        if (c.unit == rule.unit) {
            // A new version of something counted (an entry updated): nothing new to count.
            c.identity = store::RecordIdentity::of(record);
            c.sig = record.sig;
            return {};
        }
    }

    // The window [s, s + window) holding t with the most records, this one included: starts
    // at t - window + 1 or at a counted record's time. `list` is sorted by time.
    const auto time_of = [](const Counted& c) { return c.created; };
    std::size_t best_from = 0, best_to = 0;
    std::int64_t best_start = t - rule.window + 1;
    const auto count_from = [&](std::int64_t s) {
        const auto lo = std::ranges::lower_bound(list, s, {}, time_of);
        const auto hi = std::ranges::lower_bound(list, s + rule.window, {}, time_of);
        return std::make_pair(static_cast<std::size_t>(lo - list.begin()),
                              static_cast<std::size_t>(hi - list.begin()));
    };
    std::tie(best_from, best_to) = count_from(best_start);
    for (auto it = std::ranges::upper_bound(list, t - rule.window, {}, time_of);
         it != list.end() && it->created <= t; ++it) {
        const auto [from_i, to_i] = count_from(it->created);
        if (to_i - from_i > best_to - best_from) {
            best_from = from_i;
            best_to = to_i;
            best_start = it->created;
        }
    }
    // Within two windows (what forget_old keeps) an operator at its rate has at most about
    // twice the rate counted: four times is room enough, and more is over it anyway.
    const auto capacity = 4 * static_cast<std::size_t>(rule.limit);
    const auto insert = [&] {
        if (list.size() >= capacity) return;
        const auto at = std::ranges::upper_bound(list, t, {}, time_of);
        list.insert(at, Counted{t, rule.unit, store::RecordIdentity::of(record), record.sig});
    };
    if (best_to - best_from + 1 <= static_cast<std::size_t>(rule.limit) && list.size() < capacity) {
        insert();
        return {};
    }

    ++stats_.over_rate;
    const auto key = std::make_pair(operator_id, rule.type);
    if (auto r = reported_until_.find(key);
        !by_arrival && (r == reported_until_.end() || r->second <= now)) {
        // The evidence: this record and `limit` of the window's, as this node holds them (the
        // very records counted).
        std::vector<wire::Record> evidence{record};
        for (auto i = best_from; i < best_to; ++i) {
            if (evidence.size() > static_cast<std::size_t>(rule.limit)) break;
            auto held = node_.records().find(list[i].identity);
            if (held && held->has_value() && (*held)->sig == list[i].sig) {
                evidence.push_back(**held);
            }
        }
        if (report(operator_id, rule.type, std::move(evidence))) {
            if (reported_until_.size() >= max_reported) reported_until_.clear();
            reported_until_[key] = now + rule.window;
        }
    }
    if (options_.dry_run) {
        insert();
        return {};
    }
    ++stats_.refused;
    return make_error_code(errc::over_operator_rate);
}

std::vector<AnomalyService::Counted>* AnomalyService::group(const Group& g, std::int64_t now) {
    if (const auto it = counted_.find(g); it != counted_.end()) return &it->second;
    // An operator gets at most max_groups_per_operator at once; beyond, its records wait (a
    // group is never dropped while it counts: that would reset the count).
    const auto& op = std::get<0>(g);
    std::size_t own = 0;
    for (auto it = counted_.lower_bound(Group{op, trust::AnomalyType{}, NodeId{}, false});
         it != counted_.end() && std::get<0>(it->first) == op; ++it) {
        ++own;
    }
    if (own >= max_groups_per_operator) return nullptr;
    if (counted_.size() >= max_groups) {
        // Only a group whose records are all past both windows (nothing left to count) goes.
        const auto skew = wire::default_limits.max_clock_skew_seconds;
        const auto idle = std::find_if(counted_.begin(), counted_.end(), [&](const auto& e) {
            return e.second.empty() ||
                   e.second.back().created < now - 2 * trust::domain_flood_window_seconds - skew;
        });
        if (idle == counted_.end()) return nullptr;
        counted_.erase(idle);
    }
    return &counted_[g];
}

void AnomalyService::equivocation(const wire::Record& held, const wire::Record& offered) {
    ++stats_.equivocations;
    if (equivocations_reported_.count(offered.sig) != 0) return;
    if (equivocations_reported_.size() >= max_reported) equivocations_reported_.clear();
    equivocations_reported_.insert(offered.sig);
    auto standing = trust_.agent_standing(node_id_of(offered.author), clock_.unix_seconds());
    if (!standing) return;
    report(standing->operator_id, trust::AnomalyType::equivocation, {held, offered});
}

bool AnomalyService::report(const std::string& operator_id, trust::AnomalyType type,
                            std::vector<wire::Record> evidence) {
    const auto now = clock_.unix_seconds();
    trust::AnomalyReport rep{trust_.genesis().network, operator_id, type, std::move(evidence), {}};
    std::set<crypto::PublicKey> authors;
    for (const auto& e : rep.evidence) authors.insert(e.author);
    for (const auto& a : authors) {
        if (rep.agents.size() >= trust::max_report_agents) break;
        auto credentials = trust_.agent_credentials(node_id_of(a), 1);
        if (!credentials.empty()) rep.agents.push_back(std::move(credentials.front()));
    }
    // Only what any node can verify alone leaves this node.
    if (trust::verify_report(rep, trust_.genesis().anomaly)) {
        ++stats_.unreportable;
        return false;
    }
    auto record = trust::sign_report_record(rep, keys_, now);
    if (!record || trust_.learn(*record, now)) {
        ++stats_.unreportable;  // too large for one record (big entries), or not enrolled
        return false;
    }
    ++stats_.reports;
    return true;
}

void AnomalyService::tick() {
    const auto now = clock_.unix_seconds();
    for (auto it = settling_.begin(); it != settling_.end();) {
        if (it->second.at > now) {
            ++it;
            continue;
        }
        settle(it->first, it->second.round, now);
        it = settling_.erase(it);
    }
}

Clock::time_point AnomalyService::next_wakeup() const {
    if (settling_.empty()) return Clock::time_point::max();
    std::int64_t next = INT64_MAX;
    for (const auto& [key, s] : settling_) next = std::min(next, s.at);
    return Clock::time_point{std::chrono::seconds{next}};
}

void AnomalyService::settle(const NodeId& vote_key, std::uint64_t round, std::int64_t now) {
    auto records = node_.records().get(vote_key, now);
    if (!records || records->empty()) return;
    std::optional<NodeId> entry_key;
    for (const auto& r : *records) {
        if (auto v = vote::reveal_from_record(r)) entry_key = v->entry_key;
        if (entry_key) break;
    }
    if (!entry_key) return;
    const vote::Windows w{trust_.genesis().vote_commit_seconds,
                          trust_.genesis().vote_reveal_seconds};
    const auto tally =
        vote::count_votes(*records, *entry_key, 0.5, w, now,
                          [&](const crypto::PublicKey& author) -> std::optional<vote::Standing> {
                              auto s = trust_.agent_standing(node_id_of(author), now);
                              if (!s) return std::nullopt;
                              return vote::Standing{s->operator_id, s->operator_depth};
                          });
    for (const auto& v : tally.voters) {
        if (v.round != round ||
            (v.state != vote::VoterState::up && v.state != vote::VoterState::down)) {
            continue;
        }
        const bool up = v.state == vote::VoterState::up;
        // The others' tally: a voter is not judged against its own weight.
        const double others =
            (tally.weight_up - (up ? v.weight : 0)) - (tally.weight_down - (up ? 0 : v.weight));
        if (std::abs(others) < 1e-9) continue;  // no others, or a tie: nothing to go against
        (void)accuracy_.observe(v.operator_id, (others > 0) != up, now);
    }
}

void AnomalyService::forget_old(std::int64_t now) {
    if (now < next_forget_) return;
    next_forget_ = now + forget_period;
    const auto skew = wire::default_limits.max_clock_skew_seconds;
    for (auto it = counted_.begin(); it != counted_.end();) {
        const auto window = std::get<1>(it->first) == trust::AnomalyType::vote_burst
                                ? trust::vote_burst_window_seconds
                                : trust::domain_flood_window_seconds;
        auto& list = it->second;
        std::erase_if(list, [&](const Counted& c) { return c.created < now - 2 * window - skew; });
        it = list.empty() ? counted_.erase(it) : std::next(it);
    }
    std::erase_if(reported_until_, [&](const auto& r) { return r.second <= now; });
}

}  // namespace nocturne::anomaly
