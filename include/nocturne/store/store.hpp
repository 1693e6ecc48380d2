#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/store/text_search.hpp>
#include <nocturne/wire/record.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace nocturne::store {

// Which stored record a record replaces: one author holds one record per (key, kind, slot).
struct RecordIdentity {
    NodeId key;
    wire::RecordKind kind = wire::RecordKind::knowledge;
    crypto::PublicKey author{};
    std::string slot;

    static RecordIdentity of(const wire::Record& r) { return {r.key, r.kind, r.author, r.slot}; }
    friend bool operator==(const RecordIdentity&, const RecordIdentity&) = default;
};

// The records this node holds as one of the k responsible nodes. Records arriving here have been
// verified (wire::decode_record) and checked by the caller; the store enforces only what must hold
// across restarts and replicas: a record's seq never goes backwards. It does not verify them again
// on reads: a persistent store guards its bytes' integrity itself.
//
// Implementations are not thread-safe: the io_context thread that owns the node owns its store.
class Store {
public:
    virtual ~Store() = default;

    // Inserts, or replaces the record with the same identity when record.seq is higher.
    // errc::stale_seq when a higher seq is stored; errc::seq_conflict when the same seq is stored
    // with a different body. Putting the identical record again succeeds and changes nothing.
    virtual result<void> put(const wire::Record& record) = 0;

    // Unexpired records (expires > now) under key, ordered by (kind, author, slot). Empty if none.
    virtual result<std::vector<wire::Record>> get(const NodeId& key, std::int64_t now) = 0;
    // The unexpired records under key from number `offset` on, at most `limit`, in an order fixed
    // per store (by kind, author, slot): what one FIND_VALUE answer reads, whatever the key holds.
    virtual result<std::vector<wire::Record>> page(const NodeId& key, std::int64_t now,
                                                   std::size_t offset, std::size_t limit) = 0;
    // How many unexpired records are under key.
    virtual result<std::size_t> count(const NodeId& key, std::int64_t now) = 0;

    // One record by identity, expired or not (for seq decisions and republishing).
    virtual result<std::optional<wire::Record>> find(const RecordIdentity& id) = 0;

    // Removes every record under key; returns how many were removed.
    virtual result<std::size_t> erase(const NodeId& key) = 0;
    // Removes one record; returns whether it existed.
    virtual result<bool> erase(const RecordIdentity& id) = 0;

    // Removes records with expires <= now; returns how many were removed.
    virtual result<std::size_t> prune_expired(std::int64_t now) = 0;

    // Distinct keys held, in ascending order.
    virtual result<std::vector<NodeId>> list_keys() = 0;
    // At most `limit` distinct keys >= first, ascending: replication and hand-over walk the store
    // (or a key range) a few keys at a time with it.
    virtual result<std::vector<NodeId>> keys_from(const NodeId& first, std::size_t limit) = 0;

    virtual result<std::size_t> size() = 0;

    // Records under key that the store's TextIndexer indexed, unexpired, matching `search`, in
    // result order (see TextPosition) from search.after on, at most search.limit. Empty when the
    // store has no indexer.
    virtual result<std::vector<wire::Record>> search(const NodeId& key, const TextSearch& search,
                                                     std::int64_t now) = 0;
    // Indexed, unexpired records per scope, most first, at most `limit` scopes.
    virtual result<std::vector<ScopeCount>> scopes(std::int64_t now, std::size_t limit) = 0;
};

}  // namespace nocturne::store
