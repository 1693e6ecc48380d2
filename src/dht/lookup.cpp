#include <nocturne/dht/lookup.hpp>

#include <algorithm>

namespace nocturne::dht {
namespace {

// Keeps the candidate list bounded: a hostile peer answering with thousands of made-up contacts
// (20 per answer, many answers) cannot grow it past this multiple of k.
constexpr std::size_t candidate_cap_factor = 8;

}  // namespace

Lookup::Lookup(const NodeId& self, const NodeId& target, bool want_value, std::size_t k,
               std::size_t alpha, const std::vector<wire::Contact>& seeds)
    : self_(self),
      target_(target),
      want_value_(want_value),
      k_(std::max<std::size_t>(k, 1)),
      alpha_(std::max<std::size_t>(alpha, 1)) {
    for (const auto& c : seeds) insert(c, 1);
}

void Lookup::insert(const wire::Contact& contact, std::size_t depth) {
    if (contact.id == self_ || contact.address.empty()) return;
    if (find(contact.id) != nullptr) return;
    const auto pos = std::lower_bound(candidates_.begin(), candidates_.end(), contact.id,
                                      [&](const Candidate& c, const NodeId& id) {
                                          return distance_less(target_, c.contact.id, id);
                                      });
    if (static_cast<std::size_t>(pos - candidates_.begin()) >= candidate_cap_factor * k_) return;
    candidates_.insert(pos, Candidate{contact, State::fresh, depth});
    if (candidates_.size() > candidate_cap_factor * k_) {
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
        if (in_flight_ >= alpha_ || live_seen >= k_) break;
        if (c.state == State::failed) continue;
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
                       std::vector<wire::Record> records, std::size_t total, std::size_t sent) {
    Candidate* c = find(from);
    if (c == nullptr || c->state != State::in_flight) return;  // unsolicited or duplicate
    c->state = State::answered;
    --in_flight_;
    ++answered_;
    const std::size_t depth = c->depth;
    if (want_value_ && !records.empty() && records_.empty()) {
        records_ = std::move(records);
        value_depth_ = depth;
        holder_ = c->contact;
        sent_ = std::max(sent, records_.size());
        total_ = std::max(total, sent_);
    }
    for (const auto& p : peers) insert(p, depth + 1);
}

void Lookup::on_failure(const NodeId& from) {
    Candidate* c = find(from);
    if (c == nullptr || c->state != State::in_flight) return;
    --in_flight_;
    if (c->attempts < max_attempts) {
        c->state = State::fresh;
        return;
    }
    c->state = State::failed;
    ++failed_;
}

bool Lookup::done() const {
    if (want_value_ && !records_.empty()) return true;
    if (in_flight_ > 0) return false;
    std::size_t live_seen = 0;
    for (const auto& c : candidates_) {
        if (live_seen >= k_) break;
        if (c.state == State::failed) continue;
        ++live_seen;
        if (c.state == State::fresh) return false;
    }
    return true;
}

LookupResult Lookup::result() const {
    LookupResult r;
    r.records = records_;
    r.holder = holder_;
    r.total = total_;
    r.next_offset = sent_;
    r.queried = queried_;
    r.answered = answered_;
    r.failed = failed_;
    std::size_t max_depth = 0;
    for (const auto& c : candidates_) {
        if (c.state != State::answered) continue;
        if (r.closest.size() < k_) {
            r.closest.push_back(c.contact);
            if (r.closest.size() == 1) max_depth = c.depth;
        }
    }
    // Hops: for a value, the depth of the node that held it; otherwise the depth at which the
    // closest node was reached.
    r.hops = records_.empty() ? max_depth : value_depth_;
    return r;
}

}  // namespace nocturne::dht
