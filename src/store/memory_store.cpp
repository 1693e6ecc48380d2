#include <nocturne/store/memory_store.hpp>

#include <algorithm>
#include <iterator>

namespace nocturne::store {

result<void> MemoryStore::put(const wire::Record& record) {
    auto& slots = records_[record.key];
    auto [it, inserted] = slots.try_emplace(Slot{record.kind, record.author, record.slot}, record);
    if (inserted) {
        ++size_;
        return {};
    }
    const wire::Record& stored = it->second;
    if (stored.seq > record.seq) return make_error_code(errc::stale_seq);
    if (stored.seq == record.seq) {
        // Comparing bodies, not signatures: a second valid signature over the same body says
        // nothing new, so it is the idempotent re-put, not a conflict.
        if (stored.body != record.body) return make_error_code(errc::seq_conflict);
        return {};
    }
    it->second = record;
    return {};
}

result<std::vector<wire::Record>> MemoryStore::get(const NodeId& key, std::int64_t now) {
    std::vector<wire::Record> out;
    const auto it = records_.find(key);
    if (it == records_.end()) return out;
    for (const auto& [slot, record] : it->second) {
        if (record.expires > now) out.push_back(record);
    }
    return out;
}

result<std::vector<wire::Record>> MemoryStore::page(const NodeId& key, std::int64_t now,
                                                    std::size_t offset, std::size_t limit) {
    std::vector<wire::Record> out;
    const auto it = records_.find(key);
    if (it == records_.end()) return out;
    std::size_t position = 0;
    for (const auto& [slot, record] : it->second) {
        if (record.expires <= now) continue;
        if (position++ < offset) continue;
        if (out.size() == limit) break;
        out.push_back(record);
    }
    return out;
}

result<std::size_t> MemoryStore::count(const NodeId& key, std::int64_t now) {
    const auto it = records_.find(key);
    if (it == records_.end()) return std::size_t{0};
    std::size_t n = 0;
    for (const auto& [slot, record] : it->second) n += record.expires > now ? 1 : 0;
    return n;
}

result<std::optional<wire::Record>> MemoryStore::find(const RecordIdentity& id) {
    const auto it = records_.find(id.key);
    if (it == records_.end()) return std::optional<wire::Record>{};
    const auto rec = it->second.find(Slot{id.kind, id.author, id.slot});
    if (rec == it->second.end()) return std::optional<wire::Record>{};
    return std::optional<wire::Record>{rec->second};
}

result<std::size_t> MemoryStore::erase(const NodeId& key) {
    const auto it = records_.find(key);
    if (it == records_.end()) return std::size_t{0};
    const std::size_t n = it->second.size();
    records_.erase(it);
    size_ -= n;
    return n;
}

result<bool> MemoryStore::erase(const RecordIdentity& id) {
    const auto it = records_.find(id.key);
    if (it == records_.end()) return false;
    if (it->second.erase(Slot{id.kind, id.author, id.slot}) == 0) return false;
    --size_;
    if (it->second.empty()) records_.erase(it);
    return true;
}

result<std::size_t> MemoryStore::prune_expired(std::int64_t now) {
    std::size_t removed = 0;
    for (auto key_it = records_.begin(); key_it != records_.end();) {
        auto& slots = key_it->second;
        removed +=
            std::erase_if(slots, [now](const auto& entry) { return entry.second.expires <= now; });
        key_it = slots.empty() ? records_.erase(key_it) : std::next(key_it);
    }
    size_ -= removed;
    return removed;
}

result<std::vector<NodeId>> MemoryStore::list_keys() {
    std::vector<NodeId> keys;
    keys.reserve(records_.size());
    for (const auto& [key, slots] : records_) keys.push_back(key);
    return keys;
}

result<std::vector<NodeId>> MemoryStore::keys_from(const NodeId& first, std::size_t limit) {
    std::vector<NodeId> keys;
    for (auto it = records_.lower_bound(first); it != records_.end() && keys.size() < limit; ++it) {
        keys.push_back(it->first);
    }
    return keys;
}

result<std::size_t> MemoryStore::size() {
    return size_;
}

result<std::vector<wire::Record>> MemoryStore::search(const NodeId& key, const TextSearch& search,
                                                      std::int64_t now) {
    std::vector<wire::Record> out;
    const auto it = records_.find(key);
    if (!indexer_ || it == records_.end()) return out;
    struct Hit {
        std::int64_t score;
        const wire::Record* record;
    };
    std::vector<Hit> hits;
    for (const auto& [slot, record] : it->second) {
        if (record.expires <= now) continue;
        const auto text = indexer_(record);
        if (!text || text->rank < search.min_rank) continue;
        const auto score = score_text(search.terms, *text);
        if (!score) continue;
        if (search.after &&
            !comes_after(*search.after, *score, record.created, record.author, record.slot)) {
            continue;
        }
        hits.push_back({*score, &record});
    }
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
        const TextPosition pa{a.score, a.record->created, a.record->author, a.record->slot};
        return comes_after(pa, b.score, b.record->created, b.record->author, b.record->slot);
    });
    for (std::size_t i = 0; i < hits.size() && i < search.limit; ++i)
        out.push_back(*hits[i].record);
    return out;
}

result<std::vector<ScopeCount>> MemoryStore::scopes(std::int64_t now, std::size_t limit) {
    std::map<std::string, std::size_t> counts;
    if (indexer_) {
        for (const auto& [key, slots] : records_) {
            for (const auto& [slot, record] : slots) {
                if (record.expires <= now) continue;
                if (auto text = indexer_(record)) ++counts[text->scope];
            }
        }
    }
    std::vector<ScopeCount> out;
    for (auto& [scope, n] : counts) out.push_back({scope, n});
    std::sort(out.begin(), out.end(), [](const ScopeCount& a, const ScopeCount& b) {
        return a.records != b.records ? a.records > b.records : a.scope < b.scope;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
}

}  // namespace nocturne::store
