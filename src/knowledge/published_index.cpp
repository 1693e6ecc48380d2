#include <nocturne/knowledge/published_index.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::knowledge {
namespace {

// (domain, id) named by a knowledge record's payload; decode_record checked both already.
std::optional<std::pair<std::string, std::string>> names_of(const wire::Record& r) {
    auto payload = wire::parse_json(r.payload, wire::default_limits.max_record_bytes,
                                    wire::default_limits.max_json_depth);
    if (!payload || !payload->is_object()) return std::nullopt;
    const auto domain = payload->find("domain");
    const auto id = payload->find("id");
    if (domain == payload->end() || id == payload->end() || !domain->is_string() ||
        !id->is_string()) {
        return std::nullopt;
    }
    return std::make_pair(domain->get<std::string>(), id->get<std::string>());
}

}  // namespace

PublishedIndex::PublishedIndex(store::Store& store, const crypto::PublicKey& author,
                               std::int64_t now)
    : store_(store), author_(author) {
    (void)store_.prune_expired(now);
    auto keys = store_.list_keys();
    if (!keys) {
        ++skipped_;
        return;
    }
    for (const auto& key : *keys) {
        auto records = store_.get(key, now);
        if (!records) {
            ++skipped_;
            continue;
        }
        for (const auto& r : *records) {
            if (r.kind != wire::RecordKind::knowledge) continue;
            const auto names = r.author == author_ ? names_of(r) : std::nullopt;
            if (!names) {
                ++skipped_;
                continue;
            }
            auto announce =
                store_.find({domain_index_key(names->first), wire::RecordKind::domain_announce,
                             author_, names->second});
            if (!announce || !announce->has_value()) {
                ++skipped_;
                continue;
            }
            owned_[*names] = Owned{names->first, names->second, r, **announce};
        }
    }
}

std::optional<PublishedIndex::Owned> PublishedIndex::find(const std::string& domain,
                                                          const std::string& id) const {
    const auto it = owned_.find({domain, id});
    if (it == owned_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> PublishedIndex::domains_of(const std::string& id) const {
    std::vector<std::string> out;
    for (const auto& [key, owned] : owned_) {
        if (key.second == id) out.push_back(key.first);
    }
    return out;
}

std::uint64_t PublishedIndex::last_seq(const std::string& domain, const std::string& id) const {
    const auto it = owned_.find({domain, id});
    if (it != owned_.end()) return std::max(it->second.entry.seq, it->second.announcement.seq);
    // Expired entries left memory, but their records may linger until the next prune.
    std::uint64_t seq = 0;
    if (auto r = store_.find({content_key(domain, id), wire::RecordKind::knowledge, author_, ""});
        r && r->has_value()) {
        seq = (*r)->seq;
    }
    if (auto r =
            store_.find({domain_index_key(domain), wire::RecordKind::domain_announce, author_, id});
        r && r->has_value()) {
        seq = std::max(seq, (*r)->seq);
    }
    return seq;
}

std::error_code PublishedIndex::save(const std::string& domain, const std::string& id,
                                     const wire::Record& entry, const wire::Record& announcement) {
    if (auto r = store_.put(entry); !r) return r.error();
    if (auto r = store_.put(announcement); !r) return r.error();
    owned_[{domain, id}] = Owned{domain, id, entry, announcement};
    return {};
}

std::vector<PublishedIndex::Owned> PublishedIndex::all() const {
    std::vector<Owned> out;
    for (const auto& [key, owned] : owned_) out.push_back(owned);
    return out;
}

}  // namespace nocturne::knowledge
