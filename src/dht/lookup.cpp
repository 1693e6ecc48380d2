#include <nocturne/dht/lookup.hpp>

#include <algorithm>

namespace nocturne::dht {
namespace {

// Keeps the candidate list bounded: a hostile peer answering with thousands of made-up contacts
// (20 per answer, many answers) cannot grow it past this multiple of k.
constexpr std::size_t candidate_cap_factor = 8;
constexpr std::size_t default_queries_per_k = 4;

}  // namespace

Lookup::Lookup(const NodeId& self, const NodeId& target, Options options,
               const std::vector<wire::Contact>& seeds)
    : self_(self), target_(target), options_(options) {
    options_.k = std::max<std::size_t>(options_.k, 1);
    options_.alpha = std::max<std::size_t>(options_.alpha, 1);
    options_.attempts = std::max<std::size_t>(options_.attempts, 1);
    if (options_.max_queries == 0) options_.max_queries = default_queries_per_k * options_.k;
    for (const auto& c : seeds) insert(c, 1);
}

void Lookup::insert(const wire::Contact& contact, std::size_t depth) {
    if (contact.id == self_ || contact.address.empty()) return;
    if (find(contact.id) != nullptr) return;
    const auto cap = candidate_cap_factor * options_.k;
    const auto pos = std::lower_bound(candidates_.begin(), candidates_.end(), contact.id,
                                      [&](const Candidate& c, const NodeId& id) {
                                          return distance_less(target_, c.contact.id, id);
                                      });
    if (static_cast<std::size_t>(pos - candidates_.begin()) >= cap) return;
    candidates_.insert(pos, Candidate{contact, State::fresh, depth});
    if (candidates_.size() > cap) {
        // Drop the farthest fresh candidate (never one in flight: its answer is awaited).
        for (auto it = candidates_.end(); it != candidates_.begin();) {
            --it;
            if (it->state == State::fresh) {
                candidates_.erase(it);
                break;
            }
        }
    }
}

Lookup::Candidate* Lookup::find(const NodeId& id) {
    for (auto& c : candidates_)
        if (c.contact.id == id) return &c;
    return nullptr;
}

std::vector<wire::Contact> Lookup::next_queries() {
    std::vector<wire::Contact> out;
    if (done()) return out;
    // Only the k closest live candidates are worth asking: anything farther cannot change the
    // result once those k have answered.
    std::size_t live_seen = 0;
    for (auto& c : candidates_) {
        if (in_flight_ >= options_.alpha || live_seen >= options_.k) break;
        if (queried_ >= options_.max_queries) break;
        if (!counts(c.state)) continue;
        ++live_seen;
        if (c.state != State::fresh) continue;
        c.state = State::in_flight;
        ++c.attempts;
        ++in_flight_;
        ++queried_;
        out.push_back(c.contact);
    }
    return out;
}

void Lookup::on_answer(const NodeId& from, const std::vector<wire::Contact>& peers,
                       std::vector<wire::Record> records, std::size_t total, std::size_t sent,
                       bool eligible) {
    Candidate* c = find(from);
    if (c == nullptr || c->state != State::in_flight) return;  // unsolicited or duplicate
    land(*c);
    ++answered_;
    const std::size_t depth = c->depth;
    if (!eligible) {
        // It answered, but may not count: its referrals may still lead somewhere (they are
        // judged when they answer), its records are not believed.
        c->state = State::ineligible;
        ++ineligible_;
    } else {
        c->state = State::answered;
        if (options_.want_value && !records.empty()) {
            const auto n = records.size();
            holders_.push_back(HolderAnswer{c->contact, std::move(records),
                                            std::max(total, std::max(sent, n)), std::max(sent, n),
                                            depth});
        }
    }
    for (const auto& p : peers) insert(p, depth + 1);
}

bool Lookup::on_failure(const NodeId& from) {
    Candidate* c = find(from);
    if (c == nullptr || c->state != State::in_flight) return false;
    land(*c);
    if (c->attempts < options_.attempts && queried_ < options_.max_queries) {
        c->state = State::fresh;
        return false;
    }
    c->state = State::failed;
    ++failed_;
    return true;
}

void Lookup::skip(const NodeId& id) {
    Candidate* c = find(id);
    if (c == nullptr || c->state != State::in_flight) return;
    land(*c);
    --queried_;
    c->state = State::failed;
}

void Lookup::on_slow(const NodeId& id) {
    Candidate* c = find(id);
    if (c == nullptr || c->state != State::in_flight || c->slow) return;
    c->slow = true;
    --in_flight_;
    ++slow_;
}

void Lookup::land(Candidate& c) {
    if (c.slow) {
        c.slow = false;
        --slow_;
    } else {
        --in_flight_;
    }
}

bool Lookup::done() const {
    if (in_flight_ > 0 || slow_ > 0) return false;
    if (queried_ >= options_.max_queries) return true;
    std::size_t live_seen = 0;
    for (const auto& c : candidates_) {
        if (live_seen >= options_.k) break;
        if (!counts(c.state)) continue;
        ++live_seen;
        if (c.state == State::fresh) return false;
    }
    return true;
}

LookupResult Lookup::result() const {
    LookupResult r;
    r.queried = queried_;
    r.answered = answered_;
    r.failed = failed_;
    r.ineligible = ineligible_;
    std::size_t closest_depth = 0;
    for (const auto& c : candidates_) {
        if (c.state == State::failed && r.failed_ids.size() < options_.k) {
            r.failed_ids.push_back(c.contact.id);
        }
        if (c.state != State::answered) continue;
        ++r.storers_answered;
        if (r.closest.size() < options_.k) {
            r.closest.push_back(c.contact);
            if (r.closest.size() == 1) closest_depth = c.depth;
        }
    }
    r.holders = holders_.size();
    r.holder_answers = holders_;
    // Hops: for a value, the depth of the first holder heard; otherwise the depth at which the
    // closest node was reached.
    r.hops = holders_.empty() ? closest_depth : holders_.front().depth;
    return r;
}

}  // namespace nocturne::dht
