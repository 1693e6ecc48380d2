#include <nocturne/anomaly/anomaly_service.hpp>
#include <nocturne/core/hex.hpp>
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
    : node_(node), keys_(keys), clock_(clock), trust_(trust), options_(options) {
    node_.check_all_stores(
        [this](const wire::Record& r, const NodeId& from) { return check(r, from); });
}

AnomalyService::~AnomalyService() {
    node_.check_all_stores(nullptr);
}

std::error_code AnomalyService::check(const wire::Record& record, const NodeId& /*from*/) {
    trust::AnomalyType type;
    NodeId group_key{};
    std::string unit;
    std::int64_t window = 0;
    int limit = 0;
    const auto& rules = trust_.genesis().anomaly;
    if (record.kind == wire::RecordKind::vote && record.slot == "commit") {
        type = trust::AnomalyType::vote_burst;
        unit = record.key.to_hex() + to_hex(record.author) + std::to_string(record.seq);
        window = trust::vote_burst_window_seconds;
        limit = rules.vote_burst_per_minute;
    } else if (record.kind == wire::RecordKind::domain_announce) {
        type = trust::AnomalyType::domain_flood;
        group_key = record.key;
        unit = record.slot;
        window = trust::domain_flood_window_seconds;
        limit = rules.domain_flood_per_hour;
    } else {
        return {};
    }
    const auto now = clock_.unix_seconds();
    const auto t = record.created;
    if (t < now - window - wire::default_limits.max_clock_skew_seconds) return {};
    auto standing = trust_.agent_standing(node_id_of(record.author), now);
    if (!standing) return {};  // the policy judged it: a record of no operator
    forget_old(now);

    const Group group{standing->operator_id, type, group_key};
    auto it = counted_.find(group);
    if (it == counted_.end()) {
        if (counted_.size() >= max_groups) {
            // The group whose newest record is oldest goes: it is the least likely to fill up.
            auto oldest = counted_.begin();
            std::int64_t oldest_t = INT64_MAX;
            for (auto g = counted_.begin(); g != counted_.end(); ++g) {
                std::int64_t newest = INT64_MIN;
                for (const auto& c : g->second) newest = std::max(newest, c.created);
                if (newest < oldest_t) {
                    oldest_t = newest;
                    oldest = g;
                }
            }
            counted_.erase(oldest);
        }
        it = counted_.emplace(group, std::vector<Counted>{}).first;
    }
    auto& list = it->second;
    for (auto& c : list) {
        if (c.sig == record.sig) return {};  // counted already (a replica, the author again)
        if (c.unit == unit) {
            // A new version of something counted (an entry updated): nothing new to count.
            c = Counted{t, unit, store::RecordIdentity::of(record), record.sig};
            return {};
        }
    }

    // The most distinct units of one window [s, s + window) that holds t, this record included.
    std::vector<const Counted*> best;
    std::int64_t best_start = 0;
    std::vector<std::int64_t> starts{t - window + 1};
    for (const auto& c : list) {
        if (c.created > t - window && c.created <= t) starts.push_back(c.created);
    }
    for (const auto s : starts) {
        std::vector<const Counted*> in;
        for (const auto& c : list) {
            if (c.created >= s && c.created < s + window) in.push_back(&c);
        }
        if (in.size() > best.size()) {
            best = std::move(in);
            best_start = s;
        }
    }
    if (best.size() + 1 <= static_cast<std::size_t>(limit)) {
        if (list.size() < max_per_group)
            list.push_back({t, unit, store::RecordIdentity::of(record), record.sig});
        return {};
    }

    ++stats_.over_rate;
    const auto key = std::make_pair(standing->operator_id, type);
    if (auto r = reported_until_.find(key); r == reported_until_.end() || r->second <= now) {
        if (reported_until_.size() >= max_reported) reported_until_.clear();
        reported_until_[key] = now + window;
        // The evidence: this record and `limit` of the window's, as this node holds them.
        std::vector<wire::Record> evidence{record};
        for (const auto* c : best) {
            if (evidence.size() > static_cast<std::size_t>(limit)) break;
            auto held = node_.records().find(c->identity);
            if (!held || !held->has_value()) continue;
            const auto& h = **held;
            if (h.created >= best_start && h.created < best_start + window) evidence.push_back(h);
        }
        report(standing->operator_id, type, std::move(evidence));
    }
    if (options_.dry_run) {
        if (list.size() < max_per_group)
            list.push_back({t, unit, store::RecordIdentity::of(record), record.sig});
        return {};
    }
    ++stats_.refused;
    return make_error_code(errc::over_operator_rate);
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

void AnomalyService::report(const std::string& operator_id, trust::AnomalyType type,
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
        return;
    }
    auto record = trust::sign_report_record(rep, keys_, now);
    if (!record || trust_.learn(*record, now)) {
        ++stats_.unreportable;  // too large for one record (big entries), or not enrolled
        return;
    }
    ++stats_.reports;
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
