#include <nocturne/gossip/reconcile.hpp>

#include <algorithm>
#include <set>
#include <string>

namespace nocturne::gossip {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

wire::SyncResult answer_sync(const ItemSet& set, const wire::Sync& request,
                             const ReconcileLimits& limits) {
    wire::SyncResult out;
    std::set<std::string> seen;  // a prefix asked twice is answered once
    for (std::size_t i = 0; i < request.ranges.size(); ++i) {
        const auto& theirs = request.ranges[i];
        if (theirs.prefix.size() > wire::max_sync_prefix || !seen.insert(theirs.prefix).second) {
            continue;
        }
        auto mine = set.range(theirs.prefix);
        if (mine.count == theirs.count && mine.fingerprint == theirs.fingerprint) continue;
        const bool list = mine.count <= limits.list_max || theirs.count == 0 ||
                          theirs.prefix.size() == wire::max_sync_prefix;
        if (list && out.ids.size() + mine.count <= limits.max_ids &&
            out.listed.size() < limits.max_ranges) {
            out.listed.push_back(theirs.prefix);
            auto ids = set.ids(theirs.prefix);
            out.ids.insert(out.ids.end(), ids.begin(), ids.end());
        } else if (theirs.prefix.size() < wire::max_sync_prefix &&
                   out.ranges.size() + 16 <= limits.max_ranges) {
            auto finer = set.split(theirs.prefix);
            out.ranges.insert(out.ranges.end(), finer.begin(), finer.end());
        } else {
            // Full: this range and those after it are for another SYNC.
            out.skipped = static_cast<std::uint32_t>(request.ranges.size() - i);
            break;
        }
    }
    return out;
}

SyncStep follow_sync(const ItemSet& set, const wire::Sync& asked, const wire::SyncResult& answer) {
    SyncStep step;
    std::set<std::string> asked_prefixes;
    for (const auto& r : asked.ranges) asked_prefixes.insert(r.prefix);
    auto was_asked = [&](const std::string& prefix) { return asked_prefixes.count(prefix) != 0; };

    std::set<std::string> listed;
    for (const auto& p : answer.listed)
        if (was_asked(p)) listed.insert(p);
    std::set<ItemId> theirs;
    for (const auto& id : answer.ids) {
        const auto hex = id.to_hex();
        if (std::any_of(listed.begin(), listed.end(),
                        [&](const std::string& p) { return starts_with(hex, p); })) {
            theirs.insert(id);
        }
    }
    for (const auto& p : listed) {
        for (const auto& id : set.ids(p)) {
            if (theirs.count(id) == 0) step.give.push_back(id);
        }
    }
    for (const auto& id : theirs) {
        if (!set.contains(id)) step.want.push_back(id);
    }
    std::set<std::string> next_prefixes;
    // Finer ranges: one digit below an asked one.
    for (const auto& r : answer.ranges) {
        if (r.prefix.empty() || !was_asked(r.prefix.substr(0, r.prefix.size() - 1)) ||
            !next_prefixes.insert(r.prefix).second) {
            continue;
        }
        auto mine = set.range(r.prefix);
        if (mine.count != r.count || mine.fingerprint != r.fingerprint) {
            step.next.push_back(std::move(mine));
        }
    }
    // Skipped ranges: ours again, for the next round.
    const auto skipped = std::min<std::size_t>(answer.skipped, asked.ranges.size());
    for (std::size_t i = asked.ranges.size() - skipped; i < asked.ranges.size(); ++i) {
        if (next_prefixes.insert(asked.ranges[i].prefix).second) {
            step.next.push_back(set.range(asked.ranges[i].prefix));
        }
    }
    return step;
}

std::vector<wire::Sync> requests_for(std::vector<wire::SyncRange> ranges, std::size_t per_request) {
    per_request = std::max<std::size_t>(per_request, 1);
    std::vector<wire::Sync> out;
    for (std::size_t at = 0; at < ranges.size(); at += per_request) {
        wire::Sync s;
        const auto end = std::min(ranges.size(), at + per_request);
        s.ranges.assign(std::make_move_iterator(ranges.begin() + static_cast<std::ptrdiff_t>(at)),
                        std::make_move_iterator(ranges.begin() + static_cast<std::ptrdiff_t>(end)));
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace nocturne::gossip
