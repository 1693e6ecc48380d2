#include "domain_query.hpp"

#include <nocturne/core/hex.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/text_indexing.hpp>

#include <algorithm>
#include <map>
#include <utility>

namespace nocturne::knowledge {
namespace {

using store::TextPosition;

// Whether b comes after a in result order.
bool before(const TextPosition& a, const TextPosition& b) {
    return store::comes_after(a, b.score, b.created, b.author, b.slot);
}

struct Item {
    TextPosition position;
    Announcement announcement;
    crypto::Signature signature{};
};

struct HolderAnswer {
    std::vector<Item> items;
    std::optional<TextPosition> cut;  // covers the order up to here; nullopt: to the end
};

struct Job {
    dht::Node& node;
    Query query;
    std::optional<Cursor> cursor;
    std::vector<std::string> terms;
    NodeId key;
    ProvenanceOf provenance;
    std::weak_ptr<char> alive;
    std::function<void(result<QueryPage>)> done;
    std::size_t asked = 0;
    std::size_t pending = 0;
    std::vector<HolderAnswer> answers;
    std::map<crypto::Signature, std::optional<Item>> checked;

    // A record as this reader checks it, once per distinct record (holders send the same ones).
    const std::optional<Item>& check(const wire::Record& r) {
        const auto [it, fresh] = checked.try_emplace(r.sig);
        if (!fresh) return it->second;
        auto a = announcement_from_record(r);
        if (!a || a->deleted || a->domain != query.domain) return it->second;
        if (a->confidence < query.min_confidence) return it->second;
        const auto score = store::score_text(terms, indexed_text(*a));
        if (!score) return it->second;  // the holder says it matches; it does not
        TextPosition p{*score, r.created, r.author, r.slot};
        if (cursor &&
            !store::comes_after(text_position(*cursor), p.score, p.created, p.author, p.slot)) {
            return it->second;
        }
        it->second = Item{std::move(p), std::move(*a), r.sig};
        return it->second;
    }

    // The records one holder sent (already admitted), reduced to the matches this reader can
    // check itself.
    void take(const std::vector<wire::Record>& records, bool more) {
        HolderAnswer answer;
        std::map<std::pair<crypto::PublicKey, std::string>, std::size_t> seen;
        for (const auto& r : records) {
            const auto& item = check(r);
            if (!item) continue;
            const auto [it, fresh] = seen.emplace(std::pair{r.author, r.slot}, answer.items.size());
            if (!fresh) {
                if (answer.items[it->second].announcement.seq >= item->announcement.seq) continue;
                answer.items[it->second] = *item;
                continue;
            }
            answer.items.push_back(*item);
        }
        if (more) {
            // An answer that says "more" but gives nothing this reader can use covers nothing:
            // it does not count (else it could hold every page at the cursor).
            if (answer.items.empty()) return;
            answer.cut = answer.items.front().position;
            for (const auto& i : answer.items) {
                if (before(*answer.cut, i.position)) answer.cut = i.position;
            }
        }
        answers.push_back(std::move(answer));
    }

    void settle() {
        if (--pending == 0) finish();
    }

    void finish() {
        if (asked > 0 && answers.empty()) {
            done(Error(errc::timeout, "no holder of the domain's index answered"));
            return;
        }
        QueryPage page;
        page.index_truncated = answers.size() < asked;
        // P: the quorum-th furthest cut, so that a majority covered everything up to it.
        std::vector<std::optional<TextPosition>> cuts;
        for (const auto& a : answers) cuts.push_back(a.cut);
        std::sort(cuts.begin(), cuts.end(), [](const auto& a, const auto& b) {
            if (!a || !b) return !a && b;  // "to the end" first
            return before(*b, *a);
        });
        const std::optional<TextPosition> end = cuts.empty() ? std::nullopt : cuts[cuts.size() / 2];
        const auto covers = [](const std::optional<TextPosition>& cut, const TextPosition& x) {
            return !cut || !before(*cut, x);
        };

        struct Merged {
            const Item* best = nullptr;
            std::size_t support = 0;
        };
        std::map<std::pair<crypto::PublicKey, std::string>, Merged> merged;
        for (const auto& a : answers) {
            for (const auto& i : a.items) {
                auto& m = merged[{i.position.author, i.position.slot}];
                ++m.support;
                // The highest seq; an author that signed two records with one seq gets the same
                // pick from every reader (the lower signature).
                if (m.best == nullptr || m.best->announcement.seq < i.announcement.seq ||
                    (m.best->announcement.seq == i.announcement.seq &&
                     i.signature < m.best->signature)) {
                    m.best = &i;
                }
            }
        }
        page.announcements = merged.size();
        std::vector<const Item*> kept;
        for (const auto& [identity, m] : merged) {
            const auto& x = m.best->position;
            if (!covers(end, x)) continue;  // the next page's
            std::size_t covering = 0;
            for (const auto& a : answers) covering += covers(a.cut, x) ? 1 : 0;
            if (2 * m.support <= covering) continue;
            kept.push_back(m.best);
        }
        std::sort(kept.begin(), kept.end(),
                  [](const Item* a, const Item* b) { return before(a->position, b->position); });
        const auto limit = static_cast<std::size_t>(query.limit);
        std::optional<TextPosition> last;
        for (const auto* item : kept) {
            if (page.entries.size() == limit) break;
            last = item->position;
            auto entry = entry_of(item->announcement);
            auto p = provenance(entry);
            if (!p) continue;
            page.entries.push_back(FoundEntry{std::move(entry), std::move(*p),
                                              static_cast<double>(item->position.score) / 1e6});
        }
        if (kept.size() > limit) {
            page.next_cursor = encode_cursor(query_position(*last));
        } else if (end) {
            page.next_cursor = encode_cursor(query_position(*end));
        }
        done(std::move(page));
    }
};

}  // namespace

std::optional<std::vector<wire::Contact>> HolderCache::find(const NodeId& key,
                                                            Clock::time_point now) const {
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
    return it->second.holders;
}

void HolderCache::put(const NodeId& key, std::vector<wire::Contact> holders,
                      Clock::time_point now) {
    if (entries_.size() >= capacity && !entries_.contains(key)) {
        // Full: drop what has expired, else the entry that expires first.
        std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires <= now; });
        if (entries_.size() >= capacity) {
            entries_.erase(std::min_element(
                entries_.begin(), entries_.end(),
                [](const auto& x, const auto& y) { return x.second.expires < y.second.expires; }));
        }
    }
    entries_[key] = Entry{std::move(holders), now + ttl};
}

void HolderCache::forget(const NodeId& key) {
    entries_.erase(key);
}

namespace {

// Sends the QUERY to the holders (this node answers its own part) and merges what comes back.
void ask(const std::shared_ptr<Job>& job, QueryServer& local, HolderCache& cache,
         const std::vector<wire::Contact>& holders) {
    auto& n = job->node;
    job->asked = holders.size();
    job->pending = 1;  // until every request is out
    wire::Query request{job->query.domain, job->query.text, job->query.min_confidence,
                        job->query.limit, job->cursor};
    bool self = false;
    for (const auto& h : holders) {
        if (h.id == n.id()) {
            self = true;
            continue;
        }
        ++job->pending;
        n.request(h, request, [job, &cache, from = h.id](const dht::InboundMessage* answer) {
            if (job->alive.expired()) return;
            const auto* response =
                answer != nullptr ? std::get_if<wire::Response>(&answer->payload) : nullptr;
            const auto* result =
                response != nullptr ? std::get_if<wire::QueryResult>(&response->result) : nullptr;
            if (result != nullptr) {
                job->take(
                    job->node.admit_records(job->key, result->records, result->credentials, from),
                    result->more);
            } else {
                cache.forget(job->key);  // a holder that fails: look them up again next time
            }
            job->settle();
        });
    }
    if (self) {
        if (auto mine = local.answer(request)) job->take(mine->records, mine->more);
    }
    job->settle();
}

}  // namespace

void query_domain(dht::Node& node, QueryServer& local, HolderCache& cache, const Query& query,
                  ProvenanceOf provenance, std::weak_ptr<char> alive,
                  std::function<void(result<QueryPage>)> done) {
    auto job = std::make_shared<Job>(Job{node,
                                         query,
                                         std::nullopt,
                                         store::tokenize(query.text),
                                         domain_index_key(query.domain),
                                         std::move(provenance),
                                         alive,
                                         std::move(done),
                                         0,
                                         0,
                                         {},
                                         {}});
    if (!query.cursor.empty()) job->cursor = decode_cursor(query.cursor).value();
    if (auto holders = cache.find(job->key, node.clock().now())) {
        ask(job, local, cache, *holders);
        return;
    }
    node.find_holders(job->key, [job, &local, &cache](dht::LookupResult found) {
        if (job->alive.expired()) return;
        auto& n = job->node;
        auto holders = std::move(found.closest);
        if (n.is_storer(n.id())) holders.push_back({n.id(), n.address()});
        std::sort(holders.begin(), holders.end(), [&](const auto& a, const auto& b) {
            return distance_less(job->key, a.id, b.id);
        });
        holders.erase(std::unique(holders.begin(), holders.end(),
                                  [](const auto& a, const auto& b) { return a.id == b.id; }),
                      holders.end());
        // A majority of n = min(k, found); none found asks nobody (resize would make one up).
        if (!holders.empty()) {
            holders.resize(std::min(holders.size(), n.config().k) / 2 + 1);
            cache.put(job->key, holders, n.clock().now());
        }
        ask(job, local, cache, holders);
    });
}

}  // namespace nocturne::knowledge
