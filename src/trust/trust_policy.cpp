#include <nocturne/trust/trust_policy.hpp>

#include <set>

namespace nocturne::trust {
namespace {

// An agent certificate in `credentials` for `author` from an operator this node knows is revoked:
// the author can then not have learned standing here, but it is not merely unknown either.
bool vouched_by_revoked(const TrustState& state, const crypto::PublicKey& author,
                        std::span<const wire::Record> credentials) {
    for (const auto& c : credentials) {
        if (c.kind != wire::RecordKind::agent_cert) continue;
        // The record's author is the operator (its signature was checked on decode): look at the
        // payload, with its countersignature, only for the few revoked operators.
        if (!state.validator().is_revoked(operator_id_of(c.author))) continue;
        auto cert = agent_certificate_from_record(c);
        if (cert && cert->agent_key == author && state.validator().is_revoked(cert->operator_id)) {
            return true;
        }
    }
    return false;
}

}  // namespace

void TrustPolicy::learn_credentials(std::span<const wire::Record> credentials) {
    state_.learn_all(credentials, clock_.unix_seconds());
}

std::error_code TrustPolicy::admit(const wire::Record& record,
                                   std::span<const wire::Record> credentials, const NodeId& from,
                                   Use use) {
    const auto now = clock_.unix_seconds();
    if (is_trust_kind(record.kind)) return state_.check_record(record, now, credentials);

    if (use == Use::store && from != self_) {
        // STOREs carry no chain of their sender: its session presented it (store_credentials).
        settle(from);
        // A sender that is the author is judged below, with the precise reason.
        if (from != NodeId::from_public_key(record.author).value() &&
            !state_.agent_standing(from, now)) {
            return make_error_code(errc::untrusted_peer);
        }
    }
    auto ec = state_.check_record(record, now);
    if (use == Use::read && ec == errc::unknown_agent) {
        if (vouched_by_revoked(state_, record.author, credentials)) {
            return make_error_code(errc::operator_revoked);
        }
        return {};
    }
    if (ec) return ec;
    return held(record, from, use, now);
}

std::error_code TrustPolicy::held(const wire::Record& record, const NodeId& from, Use use,
                                  std::int64_t now) {
    if (!state_.has_quarantines()) return {};
    // admit() has just accepted the author's standing: its operator is one lookup away.
    const auto author_id = NodeId::from_public_key(record.author).value();
    const auto* author_operator = state_.operator_of(author_id);
    if (author_operator == nullptr) return {};
    const auto* hold = state_.quarantine_of(*author_operator, now);
    if (hold == nullptr) return {};
    const auto refused = make_error_code(errc::operator_quarantined);
    // What the operator signed during the hold is refused everywhere. What it signed before
    // stays: replicas may pass it on, but the operator itself may not (it could backdate).
    if (record.created + wire::default_limits.max_clock_skew_seconds >= hold->timestamp) {
        return refused;
    }
    if (use == Use::store && from == author_id) return refused;
    // Nor may another of its nodes pass it on, in a STORE or in an answer.
    if (from != self_) {
        auto sender = state_.agent_standing(from, now);
        if (sender && state_.quarantine_of(sender->operator_id, now) != nullptr) return refused;
    }
    return {};
}

void TrustPolicy::learn_peer(const NodeId& peer, const dht::PeerCredentials& credentials) {
    auto [it, inserted] = presented_.try_emplace(peer, Presented{credentials});
    if (inserted) {
        presented_order_.push_back(peer);
        while (presented_.size() > max_presented) {
            presented_.erase(presented_order_.front());
            presented_order_.pop_front();
        }
    } else if (it->second.credentials != credentials) {
        it->second = Presented{credentials};  // a new session
    }
}

void TrustPolicy::settle(const NodeId& node) {
    const auto it = presented_.find(node);
    if (it == presented_.end() || it->second.learned || !it->second.credentials) return;
    it->second.learned = true;
    state_.learn_all(*it->second.credentials, clock_.unix_seconds());
}

bool TrustPolicy::storer(const NodeId& node) {
    constexpr std::int64_t cache_seconds = 60;
    constexpr std::size_t cache_entries = 100'000;
    const auto now = clock_.unix_seconds();
    const auto epoch = state_.standing_epoch();
    if (epoch != cache_epoch_ || now >= cache_until_ || storer_cache_.size() >= cache_entries) {
        storer_cache_.clear();
        cache_epoch_ = epoch;
        cache_until_ = now + cache_seconds;
    }
    if (storer_cache_.contains(node)) return true;
    settle(node);
    if (!state_.agent_standing(node, now)) return false;
    storer_cache_.insert(node);
    return true;
}

std::vector<wire::Record> TrustPolicy::credentials_for(const wire::Record& record,
                                                       std::size_t limit) {
    // The record's author's chain first, then ours: a STORE we forward is judged on both.
    auto out = state_.credentials_for(record, limit);
    std::set<crypto::Signature> seen;
    for (const auto& r : out) seen.insert(r.sig);
    if (out.size() < limit) {
        for (auto& r : state_.agent_credentials(self_, limit - out.size())) {
            if (seen.insert(r.sig).second) out.push_back(std::move(r));
        }
    }
    return out;
}

std::vector<wire::Record> TrustPolicy::store_credentials(const wire::Record& record,
                                                         std::size_t limit) {
    // An ordinary record of ours is proved by our own chain, which the session already has.
    if (!is_trust_kind(record.kind) && NodeId::from_public_key(record.author).value() == self_) {
        return {};
    }
    return state_.credentials_for(record, limit);
}

}  // namespace nocturne::trust
