#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "domain_query.hpp"

namespace nocturne::knowledge {
namespace {

// Why a put stored nothing: the first refusal, or a timeout when nobody answered.
std::error_code put_failure(const dht::PutResult& r) {
    return make_error_code(r.refused > 0 && r.first_refusal != errc::ok ? r.first_refusal
                                                                        : errc::timeout);
}

}  // namespace

struct KnowledgeService::Pair {
    std::optional<dht::PutResult> entry;
    std::optional<dht::PutResult> announcement;
    std::function<void(dht::PutResult, dht::PutResult)> done;
    void maybe_done() {
        if (entry && announcement && done) std::exchange(done, nullptr)(*entry, *announcement);
    }
};

KnowledgeService::KnowledgeService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                                   const trust::TrustState* trust, std::string operator_id,
                                   store::Store& published, ServiceOptions options)
    : node_(node),
      keys_(keys),
      clock_(clock),
      trust_(trust),
      operator_id_(std::move(operator_id)),
      options_(options),
      author_(keys.node_id().to_hex()),
      index_(published, keys.public_key(), clock.unix_seconds()),
      server_(node),
      holders_(std::make_unique<HolderCache>()) {}

KnowledgeService::~KnowledgeService() = default;

void KnowledgeService::put_pair(const wire::Record& entry, const wire::Record& announcement,
                                std::function<void(dht::PutResult, dht::PutResult)> done) {
    auto pair = std::make_shared<Pair>();
    pair->done = std::move(done);
    std::weak_ptr<char> alive = alive_;
    node_.put(entry, [pair, alive](dht::PutResult r) {
        if (alive.expired()) return;
        pair->entry = r;
        pair->maybe_done();
    });
    node_.put(announcement, [pair, alive](dht::PutResult r) {
        if (alive.expired()) return;
        pair->announcement = r;
        pair->maybe_done();
    });
}

// ---- publish -----------------------------------------------------------------------------------

void KnowledgeService::publish(EntryDraft draft, Callback<PublishOutcome> done) {
    auto valid = validate_draft(std::move(draft));
    if (!valid) {
        done(valid.error());
        return;
    }
    // A node that is not an enrolled agent is refused by every storer (and is none itself): say so
    // at once instead of after a lookup that can only end in refusals or silence.
    if (trust_ != nullptr) {
        if (auto standing = trust_->agent_standing(keys_.node_id(), clock_.unix_seconds());
            !standing) {
            done(standing.error());
            return;
        }
    }
    // Back-pressure to the caller: past this many publishes in flight, "slow down" at once
    // instead of queueing without bound behind the peers' rates.
    if (publishes_in_flight_ >= options_.max_publishes_in_flight) {
        done(Error(errc::rate_limited, std::to_string(publishes_in_flight_) +
                                           " publishes in flight; retry in a second"));
        return;
    }
    ++publishes_in_flight_;
    done = [this, alive = std::weak_ptr<char>(alive_),
            done = std::move(done)](result<PublishOutcome> outcome) {
        if (!alive.expired()) --publishes_in_flight_;
        done(std::move(outcome));
    };
    const auto now = clock_.unix_seconds();
    KnowledgeEntry e;
    e.id = std::move(valid->id);
    e.domain = std::move(valid->domain);
    e.title = std::move(valid->title);
    e.content = std::move(valid->content);
    e.tags = std::move(valid->tags);
    e.confidence = valid->confidence;
    e.author = author_;
    e.operator_id = operator_id_;
    e.created = now;
    e.expires = now + valid->ttl_seconds;
    // The seq is taken before anything goes out and never handed out twice, even when this
    // attempt fails: a STORE that timed out may still have landed somewhere.
    e.seq = index_.last_seq(e.domain, e.id) + 1;
    put_entry(std::move(e), true, std::move(done));
}

// An author that lost its local state (knowledge/published.db) starts again at seq 1 and is
// refused where its seq is already held (seq_conflict: another record with that seq) or passed
// (stale_seq): it reads its own current seq from the mesh
// (a quorum read keeps the highest) and goes on from there, once.
void KnowledgeService::recover_seq(KnowledgeEntry e, Callback<PublishOutcome> done) {
    std::weak_ptr<char> alive = alive_;
    const auto key = content_key(e.domain, e.id);  // before e moves into the callback
    node_.find_value(key, [this, alive, e = std::move(e),
                           done = std::move(done)](dht::LookupResult found) mutable {
        if (alive.expired()) return;
        std::uint64_t held = 0;
        for (const auto& r : found.records) {
            if (r.kind == wire::RecordKind::knowledge && author_id(r) == author_) {
                held = std::max(held, r.seq);
            }
        }
        if (held < e.seq) {
            done(make_error_code(errc::stale_seq));  // refused for a seq nobody admits to
            return;
        }
        e.seq = std::max(held, index_.last_seq(e.domain, e.id)) + 1;
        put_entry(std::move(e), false, std::move(done));
    });
}

void KnowledgeService::put_entry(KnowledgeEntry e, bool may_recover,
                                 Callback<PublishOutcome> done) {
    auto entry = sign_entry(e, keys_);
    if (!entry) {
        done(entry.error());
        return;
    }
    auto announcement = sign_announcement(e, keys_);
    if (!announcement) {
        done(announcement.error());
        return;
    }
    if (auto ec = index_.save(e.domain, e.id, *entry, *announcement)) {
        done(ec);
        return;
    }
    put_pair(*entry, *announcement,
             [this, e = std::move(e), entry = *entry, announcement = *announcement, may_recover,
              done = std::move(done)](dht::PutResult a, dht::PutResult b) mutable {
                 const bool seq_taken =
                     a.first_refusal == errc::stale_seq || a.first_refusal == errc::seq_conflict;
                 if (!a.ok() && may_recover && seq_taken) {
                     node_.withdraw(entry);
                     node_.withdraw(announcement);
                     recover_seq(std::move(e), std::move(done));
                     return;
                 }
                 if (!a.ok()) {
                     // Not stored anywhere: the caller hears why, and the node does not keep
                     // trying behind its back, now or after a restart. The index keeps a
                     // tombstone pair in its place (not sent now): the seq stays used, and
                     // resume_publishing() will not revive an entry the user saw fail.
                     node_.withdraw(entry);
                     node_.withdraw(announcement);
                     forget_failed(e);
                     done(put_failure(a));
                     return;
                 }
                 PublishOutcome out;
                 out.entry = e;
                 out.stored = a.stored;
                 out.announced = b.stored;
                 out.first_refusal =
                     a.first_refusal != errc::ok ? a.first_refusal : b.first_refusal;
                 done(std::move(out));
             });
}

void KnowledgeService::forget_failed(const KnowledgeEntry& e) {
    const TombstoneTimes t{e.seq + 1, e.created, std::max(e.expires, e.created + 1)};
    auto entry = sign_entry_tombstone(e.domain, e.id, t, keys_);
    auto announcement = sign_announce_tombstone(e.domain, e.id, t, keys_);
    if (entry && announcement) (void)index_.save(e.domain, e.id, *entry, *announcement);
}

// ---- remove ------------------------------------------------------------------------------------

void KnowledgeService::remove(std::optional<std::string> domain, std::string id,
                              Callback<RemoveOutcome> done) {
    if (!wire::is_valid_id(id) || (domain && !wire::is_valid_domain(*domain))) {
        done(make_error_code(errc::value_out_of_range));
        return;
    }
    const auto now = clock_.unix_seconds();
    const auto live = [&](const std::string& d) -> std::optional<PublishedIndex::Owned> {
        auto owned = index_.find(d, id);
        if (!owned || owned->entry.expires <= now) return std::nullopt;
        auto parsed = entry_from_record(owned->entry);
        if (!parsed || parsed->deleted) return std::nullopt;
        return owned;
    };
    std::optional<PublishedIndex::Owned> owned;
    if (domain) {
        owned = live(*domain);
    } else {
        for (const auto& d : index_.domains_of(id)) {
            auto candidate = live(d);
            if (!candidate) continue;
            if (owned) {
                done(make_error_code(errc::value_out_of_range));  // ambiguous: name the domain
                return;
            }
            owned = std::move(candidate);
        }
    }
    if (!owned) {
        if (domain && !index_.find(*domain, id)) {
            remove_unindexed(std::move(*domain), std::move(id), std::move(done));
        } else {
            done(make_error_code(errc::not_found));
        }
        return;
    }
    delete_entry(owned->domain, id, index_.last_seq(owned->domain, id), owned->entry.expires,
                 &*owned, std::move(done));
}

// An entry of ours that the local index does not know (published.db lost): the mesh does.
void KnowledgeService::remove_unindexed(std::string domain, std::string id,
                                        Callback<RemoveOutcome> done) {
    std::weak_ptr<char> alive = alive_;
    node_.find_value(content_key(domain, id), [this, alive, domain, id, done = std::move(done)](
                                                  dht::LookupResult found) mutable {
        if (alive.expired()) return;
        for (const auto& r : found.records) {
            if (r.kind != wire::RecordKind::knowledge || author_id(r) != author_) continue;
            auto parsed = entry_from_record(r);
            if (!parsed || parsed->deleted) break;
            delete_entry(domain, id, r.seq, r.expires, nullptr, std::move(done));
            return;
        }
        done(make_error_code(errc::not_found));
    });
}

void KnowledgeService::delete_entry(const std::string& domain, const std::string& id,
                                    std::uint64_t seq, std::int64_t expires,
                                    const PublishedIndex::Owned* owned,
                                    Callback<RemoveOutcome> done) {
    const auto now = clock_.unix_seconds();
    // The tombstones live as long as the entry would have: long enough to replace it on every
    // node that might still hold it, no longer.
    const TombstoneTimes t{std::max(seq, index_.last_seq(domain, id)) + 1, now,
                           std::max(expires, now + 1)};
    auto entry = sign_entry_tombstone(domain, id, t, keys_);
    if (!entry) {
        done(entry.error());
        return;
    }
    auto announcement = sign_announce_tombstone(domain, id, t, keys_);
    if (!announcement) {
        done(announcement.error());
        return;
    }
    // The old records are not republished any more; the tombstones are, in their place.
    if (owned != nullptr) {
        node_.withdraw(owned->entry);
        node_.withdraw(owned->announcement);
    }
    if (auto ec = index_.save(domain, id, *entry, *announcement)) {
        done(ec);
        return;
    }
    put_pair(*entry, *announcement,
             [domain, id, seq = t.seq, done = std::move(done)](dht::PutResult a, dht::PutResult b) {
                 if (!a.ok()) {
                     done(put_failure(a));
                     return;
                 }
                 done(RemoveOutcome{domain, id, seq, a.stored, b.stored});
             });
}

result<std::vector<DomainInfo>> KnowledgeService::domains() const {
    const auto now = clock_.unix_seconds();
    auto held = node_.records().scopes(now, max_domains_listed);
    if (!held) return held.error();
    std::map<std::string, DomainInfo> by_name;
    for (const auto& s : *held) by_name[s.scope] = DomainInfo{s.scope, s.records, 0};
    for (const auto& owned : index_.all()) {
        if (owned.announcement.expires <= now) continue;
        auto a = announcement_from_record(owned.announcement);
        if (!a || a->deleted) continue;
        auto& info = by_name[a->domain];
        info.domain = a->domain;
        ++info.published;
    }
    std::vector<DomainInfo> out;
    for (auto& [name, info] : by_name) out.push_back(std::move(info));
    std::sort(out.begin(), out.end(), [](const DomainInfo& a, const DomainInfo& b) {
        const auto na = std::max(a.entries, a.published);
        const auto nb = std::max(b.entries, b.published);
        return na != nb ? na > nb : a.domain < b.domain;
    });
    if (out.size() > max_domains_listed) out.resize(max_domains_listed);
    return out;
}

std::size_t KnowledgeService::resume_publishing() {
    const auto now = clock_.unix_seconds();
    std::size_t n = 0;
    for (const auto& owned : index_.all()) {
        for (const auto* r : {&owned.entry, &owned.announcement}) {
            if (r->expires <= now) continue;
            node_.put(*r, nullptr);
            ++n;
        }
    }
    return n;
}

// ---- query -------------------------------------------------------------------------------------

void KnowledgeService::get(const std::string& domain, const std::string& id,
                           Callback<QueryPage> done) {
    if (!wire::is_valid_domain(domain) || !wire::is_valid_id(id)) {
        done(Error(errc::value_out_of_range, "domain and id: see POST /local/knowledge"));
        return;
    }
    std::weak_ptr<char> alive = alive_;
    node_.find_value(content_key(domain, id),
                     [this, alive, domain, id, done = std::move(done)](dht::LookupResult found) {
                         if (alive.expired()) return;
                         QueryPage page;
                         for (const auto& r : found.records) {
                             auto parsed = entry_from_record(r);
                             if (!parsed || parsed->deleted) continue;
                             auto& e = parsed->entry;
                             if (e.domain != domain || e.id != id) continue;
                             auto p = provenance_of(e);
                             if (!p) continue;
                             const double score = 0.5 + 0.5 * e.confidence;
                             page.entries.push_back(FoundEntry{std::move(e), std::move(*p), score});
                         }
                         page.announcements = page.entries.size();
                         done(std::move(page));
                     });
}

void KnowledgeService::query(Query q, Callback<QueryPage> done) {
    if (auto valid = validate_query(q); !valid) {
        done(valid.error());
        return;
    }
    query_domain(
        node_, server_, *holders_, q, [this](const KnowledgeEntry& e) { return provenance_of(e); },
        alive_, std::move(done));
}

std::optional<Provenance> KnowledgeService::provenance_of(const KnowledgeEntry& e) const {
    Provenance p;
    p.author = e.author;
    p.operator_id = e.operator_id;
    p.signature_verified = true;
    p.trust = "unverified";
    const auto author = NodeId::from_hex(e.author);
    if (trust_ == nullptr || !author) return p;
    const auto standing = trust_->agent_standing(*author, clock_.unix_seconds());
    if (standing) {
        p.trust = "trusted";
        p.verified_operator_id = standing->operator_id;
        p.operator_verified = standing->operator_id == e.operator_id;
        return p;
    }
    if (standing.error() == errc::unknown_agent) return p;
    return std::nullopt;
}

}  // namespace nocturne::knowledge
