#pragma once

#include <nocturne/core/node_id.hpp>
#include <nocturne/store/store.hpp>

#include <map>
#include <string>
#include <tuple>
#include <utility>

namespace nocturne::store {

// A Store that keeps everything in ordered maps, for the simulator and tests: no I/O, and
// iteration order depends only on the records held, so simulated runs are reproducible.
//
// Owned by the node's io_context thread (or the simulator's thread); not thread-safe.
class MemoryStore final : public Store {
public:
    explicit MemoryStore(TextIndexer indexer = {}) : indexer_(std::move(indexer)) {}

    result<void> put(const wire::Record& record) override;
    result<std::vector<wire::Record>> get(const NodeId& key, std::int64_t now) override;
    result<std::vector<wire::Record>> page(const NodeId& key, std::int64_t now, std::size_t offset,
                                           std::size_t limit) override;
    result<std::size_t> count(const NodeId& key, std::int64_t now) override;
    result<std::optional<wire::Record>> find(const RecordIdentity& id) override;
    result<std::size_t> erase(const NodeId& key) override;
    result<bool> erase(const RecordIdentity& id) override;
    result<std::size_t> prune_expired(std::int64_t now) override;
    result<std::vector<NodeId>> list_keys() override;
    result<std::vector<NodeId>> keys_from(const NodeId& first, std::size_t limit) override;
    result<std::size_t> size() override;
    // By scanning the key's records (tests and the simulator only).
    result<std::vector<wire::Record>> search(const NodeId& key, const TextSearch& search,
                                             std::int64_t now) override;
    result<std::vector<ScopeCount>> scopes(std::int64_t now, std::size_t limit) override;

private:
    TextIndexer indexer_;
    // (kind, author, slot): the part of the identity below the key, in the order get() returns.
    using Slot = std::tuple<wire::RecordKind, crypto::PublicKey, std::string>;
    using Slots = std::map<Slot, wire::Record>;

    // Invariant: no key maps to an empty Slots, so records_.size() is the number of keys.
    std::map<NodeId, Slots> records_;
    std::size_t size_ = 0;
};

}  // namespace nocturne::store
