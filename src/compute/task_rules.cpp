#include <nocturne/compute/task_rules.hpp>

#include <algorithm>
#include <map>

namespace nocturne::compute {

Decision decide_claim(const Claim& claim, std::uint64_t claim_seq, const NodeId& claimant,
                      const StorerView& view, std::int64_t now, const ClaimRules& rules) {
    Decision d;
    const auto refuse = [&](errc e) {
        d.refusal = make_error_code(e);
        return d;
    };
    if (view.completed) return refuse(errc::task_closed);
    const auto& mine = view.mine;
    if (claim.released) {
        // Only the holder releases, and only its own epoch; anything else changes nothing.
        if (mine && mine->epoch == claim.epoch && mine->claimant == claimant && !mine->released) {
            Grant g = *mine;
            g.released = true;
            d.grant = g;
        }
        return d;
    }
    if (claim.until <= now || claim.epoch > view.highest_epoch + epoch_slack) {
        return refuse(errc::value_out_of_range);
    }
    const auto until = std::min(claim.until, now + rules.claim_seconds);
    if (mine) {
        if (claim.epoch < mine->epoch) return refuse(errc::stale_epoch);
        if (claim.epoch == mine->epoch) {
            if (mine->claimant != claimant) return refuse(errc::task_claimed);
            if (mine->released) return refuse(errc::stale_epoch);
            if (claim_seq <= view.mine_seq) return d;  // granted already (a retry)
            // Renewing a claim that lapsed is claiming again: the hoarding bound applies.
            if (mine->until < now && view.operator_open_claims >= rules.max_open_claims) {
                return refuse(errc::too_many_claims);
            }
            Grant g = *mine;
            g.until = std::max(mine->until, until);
            d.grant = g;
            return d;
        }
        const bool live = !mine->released && now <= mine->until + rules.grace_seconds;
        if (live && mine->claimant != claimant) return refuse(errc::task_claimed);
    }
    if (view.operator_open_claims >= rules.max_open_claims) return refuse(errc::too_many_claims);
    d.grant = Grant{claim.id, claim.epoch, claimant, until, false};
    return d;
}

std::error_code decide_result(const Result& result, const NodeId& author,
                              const std::optional<Grant>& mine) {
    if (!mine || result.epoch > mine->epoch) return make_error_code(errc::not_claimant);
    if (result.epoch < mine->epoch || mine->released) return make_error_code(errc::stale_epoch);
    if (mine->claimant != author) return make_error_code(errc::not_claimant);
    return {};
}

const char* to_string(TaskState::Status status) noexcept {
    switch (status) {
        case TaskState::Status::open:
            return "open";
        case TaskState::Status::claimed:
            return "claimed";
        case TaskState::Status::completed:
            return "completed";
    }
    return "open";
}

TaskState task_state(const std::string& id, const std::vector<wire::Record>& records,
                     std::size_t replicas, std::int64_t now, const ClaimRules& rules,
                     const std::vector<NodeId>& storers) {
    TaskState s;
    const auto q =
        std::max<std::size_t>(vote::quorum_of(storers.empty() ? replicas : storers.size()), 1);
    const auto counts = [&](const wire::Record& r) {
        if (storers.empty()) return true;
        const auto author = NodeId::from_public_key(r.author);
        return author && std::find(storers.begin(), storers.end(), *author) != storers.end();
    };
    // The latest grant of each storer (the records are merged per identity already).
    std::vector<Grant> grants;
    std::vector<std::pair<NodeId, Result>> results;
    for (const auto& r : records) {
        if (r.kind != wire::RecordKind::task) continue;
        if (r.slot == "grant") {
            if (!counts(r)) continue;
            if (auto g = grant_from_record(r); g && g->id == id) grants.push_back(std::move(*g));
        } else if (r.slot == "result") {
            auto res = result_from_record(r);
            const auto author = NodeId::from_public_key(r.author);
            if (res && res->id == id && author) results.emplace_back(*author, std::move(*res));
        }
    }
    // A released grant completes nothing: its holder gave the task back.
    const auto granted = [&](std::uint64_t epoch, const NodeId& claimant) {
        return static_cast<std::size_t>(std::count_if(grants.begin(), grants.end(), [&](auto& g) {
            return g.epoch == epoch && g.claimant == claimant && !g.released;
        }));
    };
    for (const auto& [author, res] : results) {
        if (granted(res.epoch, author) >= q) {
            s.status = TaskState::Status::completed;
            s.epoch = res.epoch;
            s.holder = author;
            s.grants = granted(res.epoch, author);
            s.result = res;
            return s;
        }
    }
    for (const auto& g : grants) s.epoch = std::max(s.epoch, g.epoch);
    if (s.epoch == 0) return s;
    // The latest epoch's live grants per claimant.
    std::map<NodeId, std::vector<std::int64_t>> live;
    for (const auto& g : grants) {
        if (g.epoch != s.epoch || g.released || now > g.until + rules.grace_seconds) continue;
        live[g.claimant].push_back(g.until);
    }
    for (auto& [claimant, untils] : live) {
        if (untils.size() > s.grants) s.grants = untils.size();
        if (untils.size() >= q) {
            // Held while a quorum still holds it: the q-th latest `until`.
            std::sort(untils.begin(), untils.end(), std::greater<>());
            s.holder = claimant;
            s.until = untils[q - 1];
            s.grants = untils.size();
        }
    }
    // Claimed: a holder; or too few storers free to grant a new epoch (each storer's latest
    // grant, when live and not released, blocks it: a race in progress, or a split that waits
    // for releases or expiry). A loser's release that missed a storer or two does not hold the
    // task: the next epoch needs a quorum, not every storer.
    const std::size_t n = storers.empty() ? replicas : storers.size();
    const auto blocking =
        static_cast<std::size_t>(std::count_if(grants.begin(), grants.end(), [&](const Grant& g) {
            return !g.released && now <= g.until + rules.grace_seconds;
        }));
    const bool blocked = n < blocking + q;
    if (s.holder || blocked) s.status = TaskState::Status::claimed;
    if (!s.holder && blocked) {
        for (const auto& g : grants) {
            if (!g.released) s.until = std::max(s.until, g.until);
        }
    }
    return s;
}

bool contested(const vote::Tally& tally, const Triggers& triggers) {
    const int counted = tally.up + tally.down;
    if (tally.up == 0 || tally.down == 0) return false;
    return std::min(tally.up, tally.down) >= triggers.contested_share * counted;
}

bool needs_review(const vote::Tally& tally, const Triggers& triggers) {
    return tally.confidence < triggers.review_confidence &&
           tally.up + tally.down < triggers.review_votes && tally.pending == 0;
}

}  // namespace nocturne::compute
