#include <nocturne/vote/tally.hpp>

#include <algorithm>
#include <map>

namespace nocturne::vote {

const char* to_string(VoterState state) noexcept {
    switch (state) {
        case VoterState::up:
            return "up";
        case VoterState::down:
            return "down";
        case VoterState::abstain:
            return "abstain";
        case VoterState::pending:
            return "pending";
    }
    return "pending";
}

std::size_t quorum_of(std::size_t n) {
    if (n == 0) return 0;
    const std::size_t f = (n - 1) / 3;
    return (n + f + 1 + 1) / 2;
}

double voted_confidence(double prior, double weight_up, double weight_down) {
    constexpr double prior_weight = 2.0;
    const double p = std::clamp(prior, 0.0, 1.0);
    return (prior_weight * p + weight_up) / (prior_weight + weight_up + weight_down);
}

std::int64_t grace_seconds(const Windows& windows) {
    return std::min<std::int64_t>({30, windows.commit_seconds / 4, windows.reveal_seconds / 4});
}

namespace {

// A round no later than the next one: the window arithmetic cannot overflow, and nobody votes in
// a far future round (whose seq would then shadow every honest vote of the agent).
bool plausible(std::uint64_t round, std::int64_t now, const Windows& w) {
    return round <= w.round_at(now) + 1;
}

bool commit_in_window(const wire::Record& record, const Commit& c, const Windows& w) {
    return record.created >= w.commit_start(c.round) && record.created < w.reveal_start(c.round);
}

bool reveal_in_window(const wire::Record& record, const Reveal& v, const Windows& w) {
    return record.created >= w.reveal_start(v.round) && record.created < w.reveal_end(v.round);
}

}  // namespace

Tally count_votes(const std::vector<wire::Record>& records, const NodeId& entry_key, double prior,
                  const Windows& windows, std::int64_t now, const StandingOf& standing) {
    struct Cast {
        const wire::Record* commit_record = nullptr;
        Commit commit;
        std::optional<Reveal> reveal;
        Standing standing;
    };
    std::map<crypto::PublicKey, Cast> by_author;
    std::map<crypto::PublicKey, std::pair<const wire::Record*, Reveal>> reveals;
    for (const auto& r : records) {
        if (r.kind != wire::RecordKind::vote) continue;
        if (is_commit(r)) {
            auto c = commit_from_record(r);
            if (!c || c->entry_key != entry_key || !plausible(c->round, now, windows) ||
                !commit_in_window(r, *c, windows)) {
                continue;
            }
            auto s = standing(r.author);
            if (!s || s->operator_id != c->operator_id) continue;
            auto& cast = by_author[r.author];
            if (cast.commit_record == nullptr || cast.commit.round < c->round) {
                cast = Cast{&r, std::move(*c), std::nullopt, std::move(*s)};
            }
        } else if (auto v = reveal_from_record(r);
                   v && plausible(v->round, now, windows) && reveal_in_window(r, *v, windows)) {
            auto& slot = reveals[r.author];
            if (slot.first == nullptr || slot.second.round < v->round) slot = {&r, std::move(*v)};
        }
    }
    std::map<std::string, std::pair<crypto::PublicKey, const Cast*>> by_operator;
    for (auto& [author, cast] : by_author) {
        if (const auto it = reveals.find(author);
            it != reveals.end() && opens(it->second.second, cast.commit)) {
            cast.reveal = it->second.second;
        }
        auto [it, fresh] = by_operator.try_emplace(cast.commit.operator_id, author, &cast);
        // Authors come in key order: a later one replaces only with a newer round.
        if (!fresh && it->second.second->commit.round < cast.commit.round) {
            it->second = {author, &cast};
        }
    }
    Tally out;
    out.prior = prior;
    for (const auto& [op, pick] : by_operator) {
        const auto& cast = *pick.second;
        Voter v;
        v.operator_id = op;
        const auto agent = NodeId::from_public_key(cast.commit_record->author);
        v.agent = agent ? agent->to_hex() : std::string{};
        v.round = cast.commit.round;
        v.weight = 1.0 / (1.0 + std::max(cast.standing.depth, 0));
        v.counted_at = windows.reveal_end(cast.commit.round);
        if (cast.reveal) {
            v.state = cast.reveal->choice > 0 ? VoterState::up : VoterState::down;
            v.reason = cast.reveal->reason;
        } else {
            v.state = now >= v.counted_at ? VoterState::abstain : VoterState::pending;
        }
        switch (v.state) {
            case VoterState::up:
                ++out.up;
                out.weight_up += v.weight;
                break;
            case VoterState::down:
                ++out.down;
                out.weight_down += v.weight;
                break;
            case VoterState::abstain:
                ++out.abstain;
                break;
            case VoterState::pending:
                ++out.pending;
                break;
        }
        out.voters.push_back(std::move(v));
    }
    out.confidence = voted_confidence(prior, out.weight_up, out.weight_down);
    return out;
}

std::error_code check_vote(const wire::Record& record, bool first_hand, std::int64_t now,
                           const Windows& windows, const std::vector<wire::Record>& held,
                           const std::optional<std::string>& author_operator,
                           std::optional<Equivocation>& evidence) {
    for (const auto& h : held) {
        // What this node holds already (a replica or the author sending it again) passes.
        if (h.author == record.author && h.slot == record.slot && h.sig == record.sig) return {};
    }
    if (!author_operator) return make_error_code(errc::unknown_agent);
    const auto grace = grace_seconds(windows);
    if (is_commit(record)) {
        auto c = commit_from_record(record);
        if (!c) return c.error();
        if (!plausible(c->round, now, windows)) return make_error_code(errc::vote_window_closed);
        if (c->operator_id != *author_operator) return make_error_code(errc::wrong_subject);
        if (!commit_in_window(record, *c, windows) ||
            (first_hand && now >= windows.reveal_start(c->round) + grace)) {
            return make_error_code(errc::vote_window_closed);
        }
        for (const auto& h : held) {
            if (!is_commit(h)) continue;
            auto other = commit_from_record(h);
            if (other && other->operator_id == c->operator_id && other->round == c->round &&
                other->commitment != c->commitment) {
                evidence = Equivocation{h, record};
                return make_error_code(errc::equivocation);
            }
        }
        return {};
    }
    auto v = reveal_from_record(record);
    if (!v) return v.error();
    if (!plausible(v->round, now, windows)) return make_error_code(errc::vote_window_closed);
    if (v->operator_id != *author_operator) return make_error_code(errc::wrong_subject);
    // First-hand reveals only once this storer takes no more commitments of the round (its
    // grace over): no commitment can be made after a reveal is out.
    if (!reveal_in_window(record, *v, windows) ||
        (first_hand && (now < windows.reveal_start(v->round) + grace ||
                        now >= windows.reveal_end(v->round) + grace))) {
        return make_error_code(errc::vote_window_closed);
    }
    for (const auto& h : held) {
        if (h.author != record.author || !is_commit(h)) continue;
        auto c = commit_from_record(h);
        if (!c || c->round != v->round) continue;
        return opens(*v, *c) ? std::error_code{} : make_error_code(errc::reveal_mismatch);
    }
    return make_error_code(errc::no_commitment);
}

}  // namespace nocturne::vote
