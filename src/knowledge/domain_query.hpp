#pragma once

#include <nocturne/dht/node.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/query_server.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace nocturne::knowledge {

// The holders a query of a domain asked, for a short while: repeated queries of one domain skip
// the storer lookup and cost one round of QUERYs. An entry lives `ttl` (a holder set changes as
// nodes come and go, slowly), and is dropped as soon as one of its holders fails to answer, so
// the next query looks them up again. At most `capacity` domains.
//
// Owned by the KnowledgeService (its node's thread).
class HolderCache {
public:
    static constexpr std::size_t capacity = 256;
    static constexpr Clock::duration ttl = std::chrono::seconds(30);

    std::optional<std::vector<wire::Contact>> find(const NodeId& key, Clock::time_point now) const;
    void put(const NodeId& key, std::vector<wire::Contact> holders, Clock::time_point now);
    void forget(const NodeId& key);

private:
    struct Entry {
        std::vector<wire::Contact> holders;
        Clock::time_point expires;
    };
    std::map<NodeId, Entry> entries_;
};

// What a reader believes of an entry's author: nullopt drops the entry (an author known to be
// untrusted).
using ProvenanceOf = std::function<std::optional<Provenance>(const KnowledgeEntry&)>;

// The reader's side of QUERY, one page: a storer lookup of the domain's index key (unless `cache`
// has its holders), then the same QUERY to a majority of the responsible holders found (the
// ⌊n/2⌋+1 closest of the n = min(k, found) closest enrolled ones; this node answers its own part
// locally). Every
// record is verified (signature on decode, trust by the node's policy, key, time, and that it
// really matches: the score is computed again from the record), and the answers are merged so
// that a minority of holders can neither hide a result nor show one the others dropped:
//  - the page ends at the position P up to which a majority of the holders that answered covered
//    the order (a holder that said "more" covers up to its last record, one that did not, all);
//  - an entry (author, id) before P is kept, at its highest seq, when more than half of the
//    holders covering its position sent it. A stale holder that still has a deleted entry, or an
//    old version that matches where the new one does not, is outvoted; one that withholds is too.
// `done` runs once, from the node's callbacks or before this returns; never after `alive` expires.
void query_domain(dht::Node& node, QueryServer& local, HolderCache& cache, const Query& query,
                  ProvenanceOf provenance, std::weak_ptr<char> alive,
                  std::function<void(result<QueryPage>)> done);

}  // namespace nocturne::knowledge
