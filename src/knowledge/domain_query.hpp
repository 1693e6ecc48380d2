#pragma once

#include <nocturne/dht/node.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/query_server.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace nocturne::knowledge {

// What a reader believes of an entry's author: nullopt drops the entry (an author known to be
// untrusted).
using ProvenanceOf = std::function<std::optional<Provenance>(const KnowledgeEntry&)>;

// The reader's side of QUERY, one page: a storer lookup of the domain's index key, then the same
// QUERY to the ⌊k/2⌋+1 closest enrolled holders (this node answers its own part locally). Every
// record is verified (signature on decode, trust by the node's policy, key, time, and that it
// really matches: the score is computed again from the record), and the answers are merged so
// that a minority of holders can neither hide a result nor show one the others dropped:
//  - the page ends at the position P up to which a majority of the holders that answered covered
//    the order (a holder that said "more" covers up to its last record, one that did not, all);
//  - an entry (author, id) before P is kept, at its highest seq, when more than half of the
//    holders covering its position sent it. A stale holder that still has a deleted entry, or an
//    old version that matches where the new one does not, is outvoted; one that withholds is too.
// `done` runs once, from the node's callbacks or before this returns; never after `alive` expires.
void query_domain(dht::Node& node, QueryServer& local, const Query& query, ProvenanceOf provenance,
                  std::weak_ptr<char> alive, std::function<void(result<QueryPage>)> done);

}  // namespace nocturne::knowledge
