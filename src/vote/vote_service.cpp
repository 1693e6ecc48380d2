#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/vote/vote_service.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <utility>

namespace nocturne::vote {
namespace {

NodeId vote_key(const NodeId& entry_key) {
    return prefix_key(wire::key_prefix::vote, entry_key.to_hex());
}

// A live entry a lookup of its content key found, if any. The lookup merged each author's
// records at their highest seq; another author's tombstone under the same id deletes nothing.
std::optional<knowledge::EntryRecord> live_entry(const dht::LookupResult& found) {
    std::optional<knowledge::EntryRecord> best;
    for (const auto& r : found.records) {
        if (r.kind != wire::RecordKind::knowledge) continue;
        auto e = knowledge::entry_from_record(r);
        if (!e || e->deleted) continue;
        if (!best || best->entry.seq < e->entry.seq) best = std::move(*e);
    }
    return best;
}

}  // namespace

VoteService::VoteService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                         trust::TrustState& trust, store::Store& own, Windows windows)
    : node_(node), keys_(keys), clock_(clock), trust_(trust), own_(own), windows_(windows) {
    node_.check_stores(wire::RecordKind::vote, [this, alive = std::weak_ptr<char>(alive_)](
                                                   const wire::Record& r, const NodeId& from) {
        if (alive.expired()) return make_error_code(errc::internal_error);
        return check(r, from);
    });
    // Reveals this node signed and has not seen through: after a restart they still go out.
    const auto now = clock_.unix_seconds();
    for (auto& r : own_votes(now)) {
        auto v = reveal_from_record(r);
        if (!v || now >= windows_.reveal_end(v->round)) continue;
        const auto round = v->round;
        auto& p = pending_[v->entry_key];
        p.reveal = std::move(r);
        p.round = round;
    }
}

std::vector<wire::Record> VoteService::own_votes(std::int64_t now) const {
    std::vector<wire::Record> out;
    auto keys_held = own_.list_keys();
    if (!keys_held) return out;
    for (const auto& key : *keys_held) {
        auto records = own_.get(key, now);
        if (!records) continue;
        for (auto& r : *records) {
            if (r.kind == wire::RecordKind::vote && r.author == keys_.public_key()) {
                out.push_back(std::move(r));
            }
        }
    }
    return out;
}

VoteService::~VoteService() {
    node_.check_stores(wire::RecordKind::vote, nullptr);  // removes the check
}

Clock::time_point VoteService::at(std::int64_t unix_seconds) const {
    return Clock::time_point(std::chrono::seconds(unix_seconds));
}

std::error_code VoteService::check(const wire::Record& record, const NodeId& from) {
    const auto now = clock_.unix_seconds();
    std::optional<std::string> op;
    const auto author = NodeId::from_public_key(record.author);
    if (author) {
        if (auto s = trust_.agent_standing(*author, now)) op = s->operator_id;
    }
    // A reveal needs its author's commitment only; a commitment is compared with every other
    // one under the key (equivocation), O(votes on the entry).
    std::vector<wire::Record> held;
    if (auto same = node_.records().find(store::RecordIdentity::of(record));
        same && same->has_value() && (*same)->sig == record.sig) {
        return {};  // held already (replication, republishing): no scan
    }
    if (is_commit(record)) {
        if (auto records = node_.records().get(record.key, now)) held = std::move(*records);
    } else {
        for (const auto* slot : {"commit", "reveal"}) {
            auto r =
                node_.records().find({record.key, wire::RecordKind::vote, record.author, slot});
            if (r && r->has_value()) held.push_back(std::move(**r));
        }
    }
    std::optional<Equivocation> evidence;
    const bool first_hand = author && *author == from;
    auto ec = check_vote(record, first_hand, now, windows_, held, op, evidence);
    if (evidence) {
        NodeId entry_key;
        if (auto c = commit_from_record(record)) entry_key = c->entry_key;
        const bool known = std::any_of(evidence_.begin(), evidence_.end(), [&](const auto& e) {
            return e.second.held.sig == evidence->held.sig &&
                   e.second.offered.sig == evidence->offered.sig;
        });
        if (!known) {
            if (on_equivocation_) on_equivocation_(*evidence);
            if (evidence_.size() == max_evidence) evidence_.pop_front();
            evidence_.emplace_back(entry_key, std::move(*evidence));
        }
    }
    return ec;
}

void VoteService::cast(const std::string& domain, const std::string& id, int choice,
                       std::string reason, Callback<Cast> done) {
    if (operator_id_.empty()) {
        done(Error(errc::unknown_agent,
                   "this node is not enrolled: only an operator's agent votes"));
        return;
    }
    if (choice != 1 && choice != -1) {
        done(Error(errc::value_out_of_range, "vote: 1 (up) or -1 (down)"));
        return;
    }
    if (reason.size() > max_reason_bytes) {
        done(Error(errc::value_out_of_range,
                   "reason: at most " + std::to_string(max_reason_bytes) + " bytes"));
        return;
    }
    const auto entry_key = content_key(domain, id);
    node_.find_value(entry_key, [this, alive = std::weak_ptr<char>(alive_), entry_key, choice,
                                 reason = std::move(reason),
                                 done = std::move(done)](dht::LookupResult found) mutable {
        if (alive.expired()) return;
        if (!live_entry(found)) {
            done(Error(errc::not_found, "no live entry with this id in this domain"));
            return;
        }
        commit(entry_key, choice, std::move(reason), std::move(done));
    });
}

void VoteService::commit(const NodeId& entry_key, int choice, std::string reason,
                         Callback<Cast> done) {
    const auto now = clock_.unix_seconds();
    const auto round = windows_.round_at(now);
    if (const auto it = pending_.find(entry_key);
        it != pending_.end() && it->second.round == round) {
        done(Error(errc::duplicate_vote,
                   "this node voted on this entry in this round; a new vote goes in the next one, "
                   "from " +
                       std::to_string(windows_.reveal_start(round))));
        return;
    }
    Reveal v{entry_key,        round, operator_id_, choice, derive_salt(keys_, entry_key, round),
             std::move(reason)};
    Commit c{entry_key, round, operator_id_,
             commitment_of(entry_key, round, operator_id_, choice, v.salt)};
    auto commit_record = sign_commit(c, now, keys_);
    auto reveal_record = sign_reveal(v, windows_.reveal_start(round), keys_);
    if (!commit_record || !reveal_record) {
        done(Error(errc::internal_error, "cannot sign the vote"));
        return;
    }
    // What the new vote replaces in the own store (a vote of an earlier round), to put back if
    // the new one goes nowhere.
    std::vector<wire::Record> earlier;
    for (const auto* r : {&*commit_record, &*reveal_record}) {
        if (auto old = own_.find(store::RecordIdentity::of(*r)); old && old->has_value()) {
            earlier.push_back(std::move(**old));
        }
    }
    // Kept before it leaves: a crash after the commitment is out must not lose the reveal.
    if (!own_.put(*commit_record) || !own_.put(*reveal_record)) {
        done(Error(errc::store_error, "cannot keep the vote in this node's store"));
        return;
    }
    auto previous = pending_.find(entry_key);
    std::optional<Pending> replaced;
    if (previous != pending_.end()) replaced = previous->second;
    {
        Pending p;
        p.reveal = *reveal_record;
        p.round = round;
        pending_[entry_key] = std::move(p);
    }
    node_.put(*commit_record, [this, alive = std::weak_ptr<char>(alive_), entry_key, c,
                               commit_record = *commit_record, reveal_record = *reveal_record,
                               replaced = std::move(replaced), earlier = std::move(earlier),
                               done = std::move(done)](dht::PutResult r) mutable {
        if (alive.expired()) return;
        // Storers that answered without a valid acknowledgement may hold the commitment: its
        // reveal stays due then (a storer without it refuses it, which costs nothing).
        if (!r.ok() && r.unacknowledged == 0) {
            node_.withdraw(commit_record);
            (void)own_.erase(store::RecordIdentity::of(commit_record));
            (void)own_.erase(store::RecordIdentity::of(reveal_record));
            for (const auto& old : earlier) (void)own_.put(old);
            if (replaced) {
                pending_[entry_key] = std::move(*replaced);
            } else {
                pending_.erase(entry_key);
            }
        }
        if (const auto p = pending_.find(entry_key);
            p != pending_.end() && p->second.reveal.sig == reveal_record.sig) {
            p->second.storers = r.acknowledged;
        }
        if (!r.ok()) {
            const auto code = r.first_refusal != errc::ok ? r.first_refusal : errc::timeout;
            done(Error(code, code == errc::timeout ? "no responsible storer acknowledged the vote"
                                                   : std::string("the storers refused the vote: ") +
                                                         errc_name(code)));
            return;
        }
        done(Cast{entry_key, c.round, c.commitment,
                  windows_.reveal_start(c.round) + 2 * grace_seconds(windows_),
                  windows_.reveal_end(c.round), r.stored});
    });
}

void VoteService::votes(const std::string& domain, const std::string& id, Callback<Votes> done) {
    const auto entry_key = content_key(domain, id);
    node_.find_value(entry_key, [this, alive = std::weak_ptr<char>(alive_), entry_key,
                                 done = std::move(done)](dht::LookupResult found) mutable {
        if (alive.expired()) return;
        const auto entry = live_entry(found);
        if (!entry) {
            done(Error(errc::not_found, "no live entry with this id in this domain"));
            return;
        }
        read(entry_key, entry->entry.confidence,
             [done = std::move(done)](Votes v) { done(std::move(v)); });
    });
}

void VoteService::tally(const NodeId& entry_key, double prior, std::function<void(Votes)> done) {
    const auto now = clock_.now();
    if (const auto it = cache_.find(entry_key);
        it != cache_.end() && it->second.until > now && it->second.votes.tally.prior == prior) {
        done(it->second.votes);
        return;
    }
    read(entry_key, prior, [this, entry_key, done = std::move(done)](Votes v) {
        const auto later = clock_.now();
        if (cache_.size() >= max_cached && !cache_.contains(entry_key)) {
            std::erase_if(cache_, [&](const auto& kv) { return kv.second.until <= later; });
            if (cache_.size() >= max_cached) cache_.erase(cache_.begin());
        }
        // Not past the moment a pending vote becomes countable.
        auto until = later + cache_ttl;
        for (const auto& voter : v.tally.voters) {
            if (voter.state == VoterState::pending) until = std::min(until, at(voter.counted_at));
        }
        cache_[entry_key] = Cached{v, until};
        done(std::move(v));
    });
}

void VoteService::read(const NodeId& entry_key, double prior, std::function<void(Votes)> done) {
    node_.find_value(vote_key(entry_key), [this, alive = std::weak_ptr<char>(alive_), entry_key,
                                           prior, done = std::move(done)](dht::LookupResult votes) {
        if (alive.expired()) return;
        // Voters this node has not met yet: their certificates did not all fit in the answers'
        // credentials. Their operators' agent and operator certificates are read first (bounded),
        // else their votes would not count here.
        const auto now = clock_.unix_seconds();
        std::set<std::string> unknown;
        for (const auto& r : votes.records) {
            if (r.kind != wire::RecordKind::vote || !is_commit(r)) continue;
            const auto agent = NodeId::from_public_key(r.author);
            if (!agent || trust_.agent_standing(*agent, now).error() != errc::unknown_agent) {
                continue;
            }
            auto c = commit_from_record(r);
            if (!c || unknown.size() >= max_certificate_reads) continue;
            // An operator whose certificates were not found lately is not looked up again: a
            // holder serving votes of made-up operators costs each reader one round of lookups.
            const auto missed = missing_certificates_.find(c->operator_id);
            if (missed != missing_certificates_.end() && missed->second > clock_.now()) continue;
            unknown.insert(c->operator_id);
        }
        auto job = std::make_shared<std::pair<dht::LookupResult, std::size_t>>(
            std::move(votes), 2 * unknown.size() + 1);
        auto finish = [this, alive, job, entry_key, prior, done = std::move(done)] {
            if (alive.expired() || --job->second != 0) return;
            done(count(entry_key, prior, job->first));
        };
        for (const auto& op : unknown) {
            for (const auto prefix : {wire::key_prefix::agent, wire::key_prefix::cert}) {
                node_.find_value(
                    prefix_key(prefix, op),
                    [this, alive, finish, op,
                     agents = prefix == wire::key_prefix::agent](dht::LookupResult certificates) {
                        if (alive.expired()) return;
                        const auto learned =
                            trust_.learn_all(certificates.records, clock_.unix_seconds());
                        if (agents && learned == 0) {
                            if (missing_certificates_.size() >= max_missing_certificates) {
                                missing_certificates_.clear();
                            }
                            missing_certificates_[op] = clock_.now() + std::chrono::minutes(10);
                        }
                        finish();
                    });
            }
        }
        finish();
    });
}

VoteService::Votes VoteService::count(const NodeId& entry_key, double prior,
                                      const dht::LookupResult& votes) const {
    const auto now = clock_.unix_seconds();
    Votes out;
    out.entry_key = entry_key;
    out.tally = count_votes(votes.records, entry_key, prior, windows_, now,
                            [&](const crypto::PublicKey& author) -> std::optional<Standing> {
                                const auto agent = NodeId::from_public_key(author);
                                if (!agent) return std::nullopt;
                                auto s = trust_.agent_standing(*agent, now);
                                if (!s) return std::nullopt;
                                return Standing{s->operator_id, s->operator_depth};
                            });
    // `closest`: the storers that answered, up to k; those that did not are among `failed`
    // (counted whoever they were: the quorum errs on the strict side). This node is one of the
    // replicas when it is responsible (its records joined).
    const std::size_t self = node_.responsible_for(vote_key(entry_key)) ? 1 : 0;
    out.answered = std::min(votes.closest.size() + self, node_.config().k);
    out.replicas = std::min(votes.closest.size() + votes.failed + self, node_.config().k);
    out.quorum = quorum_of(out.replicas);
    for (const auto& [key, e] : evidence_) {
        if (key == entry_key) out.equivocations.push_back(e);
    }
    return out;
}

Clock::time_point VoteService::reveal_time(const Pending& p) const {
    // After every storer has stopped taking commitments of the round (their grace included), so
    // that no commitment can still be made once a reveal is public.
    return at(windows_.reveal_start(p.round) + 2 * grace_seconds(windows_));
}

void VoteService::tick() {
    const auto now_s = clock_.unix_seconds();
    const auto now = clock_.now();
    std::vector<NodeId> due;
    for (auto it = pending_.begin(); it != pending_.end();) {
        const auto& p = it->second;
        if (now_s >= windows_.reveal_end(p.round)) {
            it = pending_.erase(it);  // revealed, or an abstention now
            continue;
        }
        if (now >= reveal_time(p) && p.in_flight == 0 && now >= p.next_try) {
            due.push_back(it->first);
        }
        ++it;
    }
    // Sent after the walk: a put can call back at once (no peers) and change pending_.
    for (const auto& key : due) {
        auto& p = pending_.at(key);
        const auto record = p.reveal;
        const auto storers = p.storers;
        p.in_flight = storers.empty() ? 1 : 2;
        p.settled = false;
        auto answered = [this, alive = std::weak_ptr<char>(alive_), key,
                         sig = record.sig](bool direct) {
            return [this, alive, key, sig, direct](dht::PutResult r) {
                if (alive.expired()) return;
                revealed(key, sig, direct, r);
            };
        };
        if (!storers.empty()) node_.store_on(storers, record, answered(true));
        // A callback may have settled the reveal already (no peers: it answers at once).
        if (const auto it = pending_.find(key); it != pending_.end() && it->second.in_flight > 0) {
            node_.put(record, answered(false));
        }
    }
}

void VoteService::revealed(const NodeId& entry_key, const crypto::Signature& sig, bool direct,
                           const dht::PutResult& r) {
    const auto found = pending_.find(entry_key);
    if (found == pending_.end() || found->second.reveal.sig != sig) return;
    if (r.ok()) {
        pending_.erase(found);  // done: the storers that hold it replicate it
        return;
    }
    auto& q = found->second;
    // Given up when every storer's answer can only be the same again.
    const auto code = r.first_refusal;
    if (!direct && r.failed == 0 &&
        (code == errc::reveal_mismatch || code == errc::wrong_subject ||
         code == errc::unknown_agent)) {
        q.settled = true;
    }
    if (--q.in_flight > 0) return;
    if (q.settled) {
        pending_.erase(found);
        return;
    }
    q.backoff = std::min<Clock::duration>(
        q.backoff == Clock::duration::zero() ? std::chrono::seconds(1) : 2 * q.backoff,
        std::chrono::minutes(1));
    q.next_try = clock_.now() + q.backoff;
}

Clock::time_point VoteService::next_wakeup() const {
    auto t = Clock::time_point::max();
    for (const auto& [key, p] : pending_) {
        if (p.in_flight > 0) continue;
        t = std::min(t, std::max(reveal_time(p), p.next_try));
    }
    return t;
}

void VoteService::resume() {
    // A commitment of the round still open goes out again: the node may have stopped after it
    // kept the vote and before the storers acknowledged it. Older ones are the storers' to keep
    // (they replicate them); pending reveals go out from tick().
    const auto now = clock_.unix_seconds();
    for (const auto& r : own_votes(now)) {
        if (is_commit(r) && r.seq == windows_.round_at(now)) node_.put(r, nullptr);
    }
}

}  // namespace nocturne::vote
