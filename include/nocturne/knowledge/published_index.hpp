#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nocturne::knowledge {

// The entries this node's agent key published (and the tombstones of those it deleted): the signed
// entry and announcement records, latest seq, kept in a store::Store so that `remove` works by id
// alone, seq keeps growing across restarts, and a restarted node can republish them. A daemon keeps
// it in a file of its own (HomeLayout::published_db()) rather than in the DHT store, which holds
// what this node is *responsible* for (replication adds to it, expiry prunes it). The store's
// own rule (seq never goes backwards) guards against reusing a seq with a different body.
//
// Owned by the thread that owns the node; not thread-safe.
class PublishedIndex {
public:
    struct Owned {
        std::string domain;
        std::string id;
        wire::Record entry;         // knowledge record (or its tombstone)
        wire::Record announcement;  // domain_announce record (or its tombstone)
    };

    // Loads the records in `store` signed by `author` that are alive at `now`; expired ones are
    // pruned (every node has dropped them too).
    PublishedIndex(store::Store& store, const crypto::PublicKey& author, std::int64_t now);

    std::optional<Owned> find(const std::string& domain, const std::string& id) const;
    // Domains in which this node published an entry with this id (usually one).
    std::vector<std::string> domains_of(const std::string& id) const;
    // Highest seq this node used for (domain, id), 0 if none.
    std::uint64_t last_seq(const std::string& domain, const std::string& id) const;

    // Keeps both records (replacing older ones). store errors are returned, memory is updated
    // only on success.
    std::error_code save(const std::string& domain, const std::string& id,
                         const wire::Record& entry, const wire::Record& announcement);

    std::vector<Owned> all() const;
    std::size_t size() const { return owned_.size(); }
    // Records that could not be read back at load (store errors or foreign records).
    std::size_t skipped_at_load() const { return skipped_; }

private:
    using Key = std::pair<std::string, std::string>;  // (domain, id)

    store::Store& store_;
    crypto::PublicKey author_;
    std::map<Key, Owned> owned_;
    std::size_t skipped_ = 0;
};

}  // namespace nocturne::knowledge
