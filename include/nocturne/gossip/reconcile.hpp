#pragma once

// Anti-entropy in the spirit of negentropy (range-based set reconciliation): the asking side sends
// the fingerprints of its set's ranges; the other answers, for each range that differs, with its
// ids when few, or with its finer ranges; the asking side then knows what to fetch (IWANT), what
// to give (push) and which finer ranges to ask about next. The opening ranges are fine enough to
// hold about list_max ids each and go out in several SYNCs at once, so two sets that differ by a
// few items among tens of thousands agree after one SYNC round trip and one IWANT
// (docs/gossip.md). Pure functions.

#include <nocturne/gossip/item_set.hpp>
#include <nocturne/wire/limits.hpp>
#include <nocturne/wire/payloads.hpp>

#include <cstddef>
#include <vector>

namespace nocturne::gossip {

struct ReconcileLimits {
    // A differing range with at most this many ids is listed rather than split; so is one the
    // asking side holds nothing of (a new node learns the ids at once).
    std::size_t list_max = 64;
    std::size_t max_ids = wire::default_limits.max_gossip_ids;
    std::size_t max_ranges = wire::default_limits.max_sync_ranges;
    // Ranges per SYNC after the opening: few, so that each answer has its whole id budget for
    // them.
    std::size_t follow_up_ranges = 4;
};

// The answer to a peer's SYNC. Work is bounded by the request's ranges and the answer's budgets;
// what does not fit is skipped, to be asked again.
wire::SyncResult answer_sync(const ItemSet& set, const wire::Sync& request,
                             const ReconcileLimits& limits = {});

struct SyncStep {
    std::vector<ItemId> want;           // the peer has them, we do not
    std::vector<ItemId> give;           // we have them, the peer does not
    std::vector<wire::SyncRange> next;  // our ranges that still differ or were skipped
};

// What an answer to `asked` means for us. What the answer says outside the asked ranges is
// ignored (a peer cannot steer us to other parts of the set).
SyncStep follow_sync(const ItemSet& set, const wire::Sync& asked, const wire::SyncResult& answer);

// Cuts ranges into SYNC requests of at most `per_request` ranges, to be sent at once.
std::vector<wire::Sync> requests_for(std::vector<wire::SyncRange> ranges, std::size_t per_request);

}  // namespace nocturne::gossip
