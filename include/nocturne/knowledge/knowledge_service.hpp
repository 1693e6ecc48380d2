#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/knowledge/entry.hpp>
#include <nocturne/knowledge/published_index.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/query_server.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace nocturne::knowledge {

struct ServiceOptions {
    // Publishes (and deletes) waiting for the mesh at once; more are refused with rate_limited
    // (the API's 503 with Retry-After): an honest client slows down, nothing queues unbounded.
    std::size_t max_publishes_in_flight = 64;
};

class HolderCache;

struct PublishOutcome {
    KnowledgeEntry entry;           // as signed (id, seq, created, expires, author, operator_id)
    std::size_t stored = 0;         // responsible nodes that accepted the entry record
    std::size_t announced = 0;      // responsible nodes that accepted the announcement
    errc first_refusal = errc::ok;  // the first refusal, if any
};

// A domain this node knows of.
struct DomainInfo {
    std::string domain;
    std::size_t entries = 0;    // live entries in the part of its index this node holds
    std::size_t published = 0;  // live entries this node published there
};
inline constexpr std::size_t max_domains_listed = 1000;

struct RemoveOutcome {
    std::string domain;
    std::string id;
    std::uint64_t seq = 0;      // the tombstones' seq
    std::size_t stored = 0;     // nodes that accepted the entry tombstone
    std::size_t announced = 0;  // nodes that accepted the announcement tombstone
};

// Knowledge entries on the DHT, for the local API: publish, query, remove. Sans-IO like
// dht::Node: every operation answers through its callback, from dht::Node's callbacks (so from
// Node::on_message() or tick()), or before the call returns when no network is needed (an invalid
// request, a local answer). Callbacks never run after the service is destroyed.
//
// Deletion is by tombstone: remove() publishes, under the same keys, records with a higher seq
// that say "deleted"; every responsible node replaces the entry with the tombstone (store rule:
// higher seq wins), readers drop tombstones, and the tombstones expire when the entry would have,
// so responsible nodes drop them then. The tombstones are republished until then, so a node that
// was away while the entry was deleted is corrected at the next republish.
//
// Owned by the thread that owns the node (the daemon's io_context); not thread-safe.
class KnowledgeService {
public:
    template <class T>
    using Callback = std::function<void(result<T>)>;

    // keys: the node (agent) key; records are signed with it. trust may be null (no provenance
    // beyond the signature). operator_id: this agent's operator ("" when not enrolled).
    // published: where the PublishedIndex lives (HomeLayout::published_db() in a daemon).
    KnowledgeService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                     const trust::TrustState* trust, std::string operator_id,
                     store::Store& published, ServiceOptions options = {});
    ~KnowledgeService();
    KnowledgeService(const KnowledgeService&) = delete;
    KnowledgeService& operator=(const KnowledgeService&) = delete;

    // Signs the entry and its announcement (seq 1 for a new id, the previous seq + 1 for an id
    // this node published before) and stores both on their k closest nodes. Fails with the first
    // refusal's code (e.g. unknown_agent when this node is not enrolled), or timeout when nobody
    // answered, if the entry was stored nowhere; the node then does not republish it.
    void publish(EntryDraft draft, Callback<PublishOutcome> done);

    // One page of a domain's live entries matching the text and confidence, best first, asked of
    // the holders of the domain's index (see query_domain in domain_query.hpp). Invalid queries
    // (including a malformed cursor) fail with value_out_of_range before any lookup; timeout when
    // no holder answered.
    void query(Query query, Callback<QueryPage> done);

    // One entry by domain and id, read from the k closest storers of its key (a DHT get): every
    // author's live version at its highest seq (several authors may use one id), as a page
    // without cursor. An empty page when there is none; value_out_of_range for a bad domain/id.
    void get(const std::string& domain, const std::string& id, Callback<QueryPage> done);

    // Deletes an entry this node published, by id (domain: when the id exists in several
    // domains; value_out_of_range if it is ambiguous). not_found for ids this node did not
    // publish, has deleted already or that expired. Fails like publish() when the tombstone was
    // stored nowhere; the node keeps republishing it. An id this node has no local record of
    // (its published.db was lost) is looked up in the mesh when the domain is given: an entry
    // signed by this node's key there is deleted all the same.
    void remove(std::optional<std::string> domain, std::string id, Callback<RemoveOutcome> done);

    // The domains whose index this node holds (a node holds those whose index key is near its
    // id) and those it published in, most entries first, at most max_domains_listed. Local: no
    // network. A store failure is the store's error.
    result<std::vector<DomainInfo>> domains() const;

    // Hands every live record of the PublishedIndex to the node again, so that it republishes
    // them after a restart. Returns how many records.
    std::size_t resume_publishing();

    // The operator named in entries published from now on (enroll may run while the node does).
    void set_operator_id(std::string operator_id) { operator_id_ = std::move(operator_id); }

    const PublishedIndex& published() const { return index_; }
    const std::string& author() const { return author_; }

private:
    struct Pair;

    void put_pair(const wire::Record& entry, const wire::Record& announcement,
                  std::function<void(dht::PutResult, dht::PutResult)> done);
    // Signs e at e.seq, keeps it in the index and stores it; on stale_seq, once, recover_seq().
    void put_entry(KnowledgeEntry e, bool may_recover, Callback<PublishOutcome> done);
    void recover_seq(KnowledgeEntry e, Callback<PublishOutcome> done);
    void remove_unindexed(std::string domain, std::string id, Callback<RemoveOutcome> done);
    // Signs and stores the tombstones after `seq` (owned: what the index held, to withdraw).
    void delete_entry(const std::string& domain, const std::string& id, std::uint64_t seq,
                      std::int64_t expires, const PublishedIndex::Owned* owned,
                      Callback<RemoveOutcome> done);
    std::optional<Provenance> provenance_of(const KnowledgeEntry& entry) const;
    void forget_failed(const KnowledgeEntry& entry);

    dht::Node& node_;
    const crypto::KeyPair& keys_;
    const Clock& clock_;
    const trust::TrustState* trust_;
    std::string operator_id_;
    ServiceOptions options_;
    std::string author_;  // our node id hex
    std::size_t publishes_in_flight_ = 0;
    PublishedIndex index_;
    QueryServer server_;  // answers peers' QUERYs for the domain indexes this node holds
    std::unique_ptr<HolderCache> holders_;  // who holds the domains queried lately
    // Callbacks hold a weak_ptr to this: once the service is gone they do nothing.
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace nocturne::knowledge
