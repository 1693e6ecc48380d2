#include <nocturne/core/hex.hpp>
#include <nocturne/core/overloaded.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/dht/ip_group.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "maintenance.hpp"

namespace nocturne::dht {
namespace {

// Whether self belongs among the k nodes closest to key, given the closest others it knows
// (closest first, at most k of them).
template <class Peers>
bool among_k_closest(const NodeId& self, const NodeId& key, const Peers& closest, std::size_t k) {
    return closest.size() < k || distance_less(key, self, closest.back().id);
}

errc code_of(std::error_code ec) {
    return errc_of(ec, errc::store_error);
}

}  // namespace

struct Node::LookupJob {
    Lookup lookup;
    LookupCallback done;
    bool storers = false;
    bool finished = false;
    Clock::time_point started{};
    bool sent = false;  // a request went out
};

// A read after its lookup: the holders' further pages, then the merge.
struct Node::ReadJob {
    NodeId key;
    LookupResult found;
    std::vector<wire::Record> local;  // this node's own, when it is a holder
    std::size_t pages_in_flight = 0;
    std::size_t budget = 0;  // raw records still allowed in, all holders together
    LookupCallback done;
};

Node::Node(const NodeId& self, std::string address, const Clock& clock, Transport& transport,
           store::Store& store, NodeConfig config)
    : self_(self),
      address_(std::move(address)),
      clock_(clock),
      transport_(transport),
      store_(store),
      config_(std::move(config)),
      table_(self, clock, config_.k, config_.table),
      rng_(config_.seed),
      rpc_(clock, config_.rpc_timeout, config_.seed),
      verifier_({config_.max_verifications, config_.failed_address_backoff}) {
    if (config_.seed == 0) {
        std::uint64_t seed = 0;
        crypto::random_fill({reinterpret_cast<std::uint8_t*>(&seed), sizeof seed});
        rng_.seed(seed);
    }
    maintenance_ = std::make_unique<Maintenance>(*this);
}

Node::~Node() = default;

void Node::count_out(const wire::Payload& payload) {
    ++stats_.messages_out;
    ++stats_.messages_out_by_type[static_cast<std::size_t>(wire::type_of(payload))];
}

void Node::send(const wire::Contact& to, wire::Payload payload) {
    count_out(payload);
    transport_.send(to, Message{rpc_.next_id(), std::move(payload)});
}

void Node::request(const wire::Contact& to, wire::Payload payload, ResponseHandler handler) {
    count_out(payload);
    auto msg = rpc_.start(to, std::move(payload), std::move(handler));
    transport_.send(to, std::move(msg));
}

void Node::reply(const InboundMessage& request, wire::Payload answer) {
    send(request.from, std::move(answer));
}

void Node::check_stores(wire::RecordKind kind, StoreCheck check) {
    if (!check) {
        store_checks_.erase(kind);
        return;
    }
    store_checks_[kind] = std::move(check);
}

void Node::serve(wire::MessageType type, RequestHandler handler) {
    if (!handler) {
        services_.erase(static_cast<std::size_t>(type));
        return;
    }
    services_[static_cast<std::size_t>(type)] = std::move(handler);
}

// ---- inbound -----------------------------------------------------------------------------------

void Node::on_message(InboundMessage msg) {
    note_credentials(msg);
    // Heard from: alive. A storer our lookups had given up on is back (a partition healed): it is
    // handed what it may have missed, as a peer that re-enters the table is (offer_records_to);
    // skipping it meanwhile kept it in the table, so it would not re-enter. At its address in the
    // table (proven), not the one the message claims.
    if (!unresponsive_.empty() && unresponsive_.erase(msg.from.id) > 0 && is_storer(msg.from.id)) {
        if (const auto known = table_.find(msg.from.id)) {
            maintenance_->offer_records_to({known->id, known->address});
        }
    }
    ++stats_.messages_in_by_type[static_cast<std::size_t>(wire::type_of(msg.payload))];
    if (wire::is_reply(msg.payload)) {
        handle_answer(msg);
    } else {
        ++stats_.requests_in;
        handle_request(msg);
        consider(msg);
    }
}

void Node::on_undeliverable(const std::string& message_id) {
    if (rpc_.fail(message_id)) ++stats_.undeliverable;
}

void Node::note_credentials(const InboundMessage& msg) {
    if (policy_ == nullptr || !msg.credentials) return;
    policy_->learn_peer(msg.from.id, msg.credentials);
}

void Node::handle_request(const InboundMessage& msg) {
    std::visit(
        overloaded{
            [&](const wire::Ping&) { reply(msg, wire::Pong{msg.id}); },
            [&](const wire::FindNode& p) {
                reply(msg, wire::Response{msg.id, wire::NodesResult{referrals(p.target, msg.from.id,
                                                                              p.storers)}});
            },
            [&](const wire::FindValue& p) {
                wire::ValueResult out = value_page(p.key, p.offset);
                out.credentials = credentials_for(out.records);
                // Readers ask several holders: the closest storers come along either way.
                if (p.offset == 0) out.peers = referrals(p.key, msg.from.id, true);
                reply(msg, wire::Response{msg.id, std::move(out)});
            },
            [&](const wire::Store& p) {
                auto result = accept_store(p.record, p.credentials, msg.from.id, p.ack);
                if (result.stored) {
                    ++stats_.stores_accepted;
                    ++stats_.stores_accepted_by_kind[static_cast<std::size_t>(p.record.kind)];
                    maintenance_->note_stored(p.record.key);
                } else {
                    ++stats_.stores_refused;
                    ++stats_.stores_refused_by_code[result.code];
                }
                reply(msg, wire::Response{msg.id, std::move(result)});
            },
            [&](const auto&) {
                const auto it = services_.find(msg.payload.index());
                if (it != services_.end()) {
                    it->second(msg);
                    return;
                }
                reply(msg, wire::ErrorReply{msg.id, errc::unexpected_message,
                                            "this node does not serve that request"});
            },
        },
        msg.payload);
}

void Node::handle_answer(const InboundMessage& msg) {
    // We reached the peer where we sent the request: that address is proven. A bootstrap seed may
    // be a host name: what enters the table is the IP we reached it at. Learned before the
    // request's handler runs (a bootstrap goes on with a lookup that starts from it).
    if (auto asked = rpc_.asked(msg)) {
        wire::Contact proven{msg.from.id, asked->address};
        if (!wire::is_contact_address(proven.address)) {
            proven.address = address_at(asked->address, msg.observed_ip).value_or("");
        }
        // An ERROR answers too, but says nothing about serving: only real answers teach.
        if (!std::holds_alternative<wire::ErrorReply>(msg.payload)) learn(proven);
    }
    switch (rpc_.on_answer(msg)) {
        case RpcManager::Verdict::delivered:
            ++stats_.responses_in;
            break;
        case RpcManager::Verdict::wrong_shape:  // the request failed
            ++stats_.responses_in;
            ++stats_.unexpected;
            break;
        case RpcManager::Verdict::deferred:  // "slow down": sent again after its retry-after
            ++stats_.responses_in;
            ++stats_.slowed_down;
            break;
        case RpcManager::Verdict::unknown:
        case RpcManager::Verdict::wrong_peer:
            ++stats_.unexpected;
            break;
    }
}

void Node::consider(const InboundMessage& msg) {
    // Peers that accept no connections (one-shot clients) can ask us things but serve nobody.
    if (msg.from.address.empty() || msg.from.id == self_) return;
    // Its claim is only its port: the IP is the one its connection comes from. Dialing that back
    // (a new connection, whose handshake must prove the same id) proves it can be reached there;
    // only then may it enter the table (or move there, after a restart on another port) and be
    // passed on to others.
    auto address = address_at(msg.from.address, msg.observed_ip);
    if (const auto known = table_.find(msg.from.id)) {
        table_.on_ping_succeeded(msg.from.id);  // heard from: refreshed
        if (!address || *address == known->address) return;
    }
    if (!address) return;
    const wire::Contact candidate{msg.from.id, *address};
    if (verifier_.verified(candidate.id, candidate.address, clock_.now())) {
        learn(candidate);  // proven there lately: offered to the table, no new connection
        return;
    }
    if (!verifier_.begin(candidate.id, candidate.address, clock_.now())) return;
    auto verify = rpc_.start(
        candidate, wire::Ping{},
        [this, candidate](const InboundMessage* answer) {
            const bool answered =
                answer != nullptr && std::holds_alternative<wire::Pong>(answer->payload);
            verifier_.end(candidate.id, candidate.address, answered, clock_.now());
            if (!answered) {
                ++stats_.verifications_failed;
                return;
            }
            ++stats_.contacts_verified;
        },
        true);
    count_out(verify.payload);
    transport_.send(candidate, std::move(verify));
}

void Node::learn(const wire::Contact& contact) {
    if (contact.address.empty() || contact.id == self_) return;
    const auto outcome = table_.add(PeerInfo{contact.id, contact.address, "", clock_.now(), 0});
    using Status = RoutingTable::AddResult::Status;
    if (outcome.status == Status::added) {
        if (is_storer(contact.id)) maintenance_->offer_records_to(contact);
    } else if (outcome.status == Status::cached && outcome.eviction_candidate) {
        const auto candidate = outcome.eviction_candidate->id;
        if (clock_.now() - outcome.eviction_candidate->last_seen <
            config_.eviction_ping_min_silence) {
            return;
        }
        if (!eviction_pings_.insert(candidate).second) return;
        const wire::Contact c{candidate, outcome.eviction_candidate->address};
        request(c, wire::Ping{}, [this, candidate](const InboundMessage* answer) {
            eviction_pings_.erase(candidate);
            if (answer != nullptr) {
                table_.on_ping_succeeded(candidate);
            } else {
                table_.evict(candidate);
            }
        });
    }
}

std::vector<wire::Contact> Node::closest_contacts(
    const NodeId& target, std::size_t n, const NodeId& exclude, bool storers,
    const std::function<bool(const NodeId&)>& keep) const {
    const auto peers = table_.closest_n(target, n, [&](const PeerInfo& p) {
        return p.id != exclude && (!storers || is_storer(p.id)) && (!keep || keep(p.id));
    });
    std::vector<wire::Contact> out;
    out.reserve(peers.size());
    for (const auto& p : peers) out.push_back({p.id, p.address});
    return out;
}

std::vector<wire::Contact> Node::referrals(const NodeId& target, const NodeId& asker,
                                           bool storers) const {
    return closest_contacts(target, config_.k, asker, storers,
                            [&](const NodeId& id) { return !recently_unresponsive(id); });
}

bool Node::is_storer(const NodeId& node) const {
    return policy_ == nullptr || policy_->storer(node);
}

bool Node::responsible_for(const NodeId& key) const {
    if (!is_storer(self_)) return false;
    return among_k_closest(self_, key, closest_contacts(key, config_.k, self_, true), config_.k);
}

wire::StoreResult Node::accept_store(const wire::Record& record,
                                     std::span<const wire::Record> credentials, const NodeId& from,
                                     bool ack) {
    if (auto ec = wire::check_record_time(record, clock_.unix_seconds(), config_.limits)) {
        return {false, code_of(ec)};
    }
    if (!responsible_for(record.key)) return {false, errc::not_responsible};
    if (policy_ != nullptr) {
        policy_->learn_credentials(credentials);
        if (auto ec = policy_->admit(record, credentials, from, RecordPolicy::Use::store)) {
            return {false, code_of(ec)};
        }
    }
    if (const auto check = store_checks_.find(record.kind); check != store_checks_.end()) {
        if (auto ec = check->second(record, from)) return {false, code_of(ec)};
    }
    if (store_check_all_) {
        if (auto ec = store_check_all_(record, from)) return {false, code_of(ec)};
    }
    if (auto stored = store_.put(record); !stored) return {false, code_of(stored.error())};
    wire::StoreResult ok{true, errc::ok};
    if (ack && signer_ != nullptr) ok.ack = wire::sign_store_ack(record, *signer_);
    return ok;
}

wire::Store Node::store_message(const wire::Record& record) {
    wire::Store out{record};
    if (policy_ != nullptr)
        out.credentials = policy_->store_credentials(record, config_.limits.max_credentials);
    return out;
}

void Node::send_store(const wire::Contact& to, const wire::Store& message, ResponseHandler done) {
    if (policy_ == nullptr) {
        request(to, message, std::move(done));
        return;
    }
    request(to, message,
            [this, to, record = message.record, ack = message.ack,
             done = std::move(done)](const InboundMessage* m) mutable {
                const auto* resp = m ? std::get_if<wire::Response>(&m->payload) : nullptr;
                const auto* result = resp ? std::get_if<wire::StoreResult>(&resp->result) : nullptr;
                if (result == nullptr || result->stored ||
                    (result->code != errc::untrusted_peer && result->code != errc::unknown_agent)) {
                    if (done) done(m);
                    return;
                }
                ++stats_.stores_resent_with_credentials;
                wire::Store full{record, credentials_for({record}), ack};
                request(to, std::move(full), std::move(done));
            });
}

std::vector<wire::Record> Node::credentials_for(const std::vector<wire::Record>& records) {
    std::vector<wire::Record> out;
    if (policy_ == nullptr) return out;
    std::set<crypto::Signature> seen;
    for (const auto& r : records) {
        const auto room = config_.limits.max_credentials - out.size();
        if (room == 0) break;
        for (auto& c : policy_->credentials_for(r, room)) {
            if (out.size() < config_.limits.max_credentials && seen.insert(c.sig).second) {
                out.push_back(std::move(c));
            }
        }
    }
    return out;
}

// ---- lookups -----------------------------------------------------------------------------------

void Node::start_lookup(const NodeId& target, bool want_value, bool storers, std::size_t attempts,
                        LookupCallback done) {
    // Data lives on storers only, and a storer lookup starts from storers: a node that is not one
    // cannot steer it (its referrals are judged when they answer).
    const auto seeds = closest_contacts(target, config_.k, NodeId{}, storers || want_value);
    Lookup::Options options;
    options.k = config_.k;
    options.alpha =
        storers || want_value ? std::max(config_.alpha, config_.storer_alpha) : config_.alpha;
    options.want_value = want_value;
    options.attempts = attempts;
    auto job = std::make_shared<LookupJob>(LookupJob{Lookup(self_, target, options, seeds),
                                                     std::move(done), storers || want_value, false,
                                                     clock_.now(), false});
    pump(job);
}

void Node::pump(const std::shared_ptr<LookupJob>& job) {
    if (job->finished) return;
    if (job->lookup.done()) {
        job->finished = true;
        // The clock is the wall's: a step back (NTP) must not make a negative duration.
        stats_.lookup_seconds.observe(
            std::max(0.0, std::chrono::duration<double>(clock_.now() - job->started).count()));
        if (job->done) job->done(job->lookup.result());
        return;
    }
    for (auto queries = job->lookup.next_queries(); !queries.empty();) {
        // A node whose lookups gave up on every candidate it would ask first (its own link was
        // down) asks them anyway: skipping them would make it answer nothing for a minute.
        const bool ask_anyway =
            !job->sent && std::all_of(queries.begin(), queries.end(),
                                      [&](const wire::Contact& c) { return unresponsive(c.id); });
        bool skipped = false;
        for (const auto& contact : queries) {
            if (ask_anyway || !unresponsive(contact.id)) continue;
            job->lookup.skip(contact.id);
            ++stats_.unresponsive_skipped;
            skipped = true;
        }
        if (!ask_anyway) {
            std::erase_if(queries, [&](const wire::Contact& c) { return unresponsive(c.id); });
        }
        job->sent = job->sent || !queries.empty();
        send_queries(job, queries);
        // Slots a skipped candidate left go to the next ones now.
        queries = skipped ? job->lookup.next_queries() : std::vector<wire::Contact>{};
    }
    // A lookup whose candidates have all failed or been asked, with nothing in flight, is done.
    if (job->lookup.done() && !job->finished) pump(job);
}

void Node::send_queries(const std::shared_ptr<LookupJob>& job,
                        const std::vector<wire::Contact>& queries) {
    for (const auto& contact : queries) {
        wire::Payload query =
            job->lookup.want_value()
                ? wire::Payload{wire::FindValue{job->lookup.target()}}
                : wire::Payload{wire::FindNode{job->lookup.target(), job->storers}};
        if (config_.slow_after < config_.rpc_timeout) {
            slow_checks_.emplace(clock_.now() + config_.slow_after, SlowCheck{job, contact.id});
        }
        request(contact, std::move(query), [this, job, id = contact.id](const InboundMessage* m) {
            const auto* resp = m ? std::get_if<wire::Response>(&m->payload) : nullptr;
            // Judged now: its session's credentials arrived with this answer at the latest.
            const bool eligible = !job->storers || is_storer(id);
            if (resp == nullptr) {
                // Silence, not a refusal: a peer that answers with an error is alive.
                if (job->lookup.on_failure(id) && m == nullptr) note_unresponsive(id);
            } else if (const auto* nodes = std::get_if<wire::NodesResult>(&resp->result)) {
                job->lookup.on_answer(id, nodes->peers, {}, 0, 0, eligible);
            } else if (const auto* value = std::get_if<wire::ValueResult>(&resp->result)) {
                job->lookup.on_answer(id, value->peers,
                                      eligible ? admit_records(job->lookup.target(), value->records,
                                                               value->credentials, id)
                                               : std::vector<wire::Record>{},
                                      static_cast<std::size_t>(value->total),
                                      std::max<std::size_t>(value->records.size(),
                                                            static_cast<std::size_t>(value->next)),
                                      eligible);
            }
            pump(job);
        });
    }
}

bool Node::unresponsive(const NodeId& id) {
    if (recently_unresponsive(id)) return true;
    if (!unresponsive_.empty()) unresponsive_.erase(id);  // expired, if there
    return false;
}

std::size_t Node::unresponsive_peers() const {
    const auto now = clock_.now();
    return static_cast<std::size_t>(
        std::count_if(unresponsive_.begin(), unresponsive_.end(),
                      [&](const auto& e) { return now - e.second < config_.unresponsive_for; }));
}

bool Node::recently_unresponsive(const NodeId& id) const {
    if (unresponsive_.empty()) return false;
    const auto it = unresponsive_.find(id);
    return it != unresponsive_.end() && clock_.now() - it->second < config_.unresponsive_for;
}

void Node::note_unresponsive(const NodeId& id) {
    const auto now = clock_.now();
    if (unresponsive_.size() >= max_unresponsive) {
        std::erase_if(unresponsive_,
                      [&](const auto& e) { return now - e.second >= config_.unresponsive_for; });
        if (unresponsive_.size() >= max_unresponsive) return;
    }
    unresponsive_[id] = now;
}

// Records were verified by the transport; keep those that belong to this key and are still
// alive, and that the trust policy accepts.
std::vector<wire::Record> Node::admit_records(const NodeId& key,
                                              std::span<const wire::Record> records,
                                              std::span<const wire::Record> credentials,
                                              const NodeId& from) {
    std::vector<wire::Record> out;
    const auto now_s = clock_.unix_seconds();
    // Once per answer, not per record: a certificate that fails costs its checks once.
    if (policy_ != nullptr) policy_->learn_credentials(credentials);
    for (const auto& r : records) {
        if (r.key != key) continue;
        if (wire::check_record_time(r, now_s, config_.limits)) continue;
        if (policy_ != nullptr && policy_->admit(r, credentials, from, RecordPolicy::Use::read)) {
            continue;
        }
        out.push_back(r);
    }
    return out;
}

bool Node::believes(const wire::Record& record) {
    return policy_ == nullptr || !policy_->admit(record, {}, self_, RecordPolicy::Use::read);
}

// The records from number `offset` on while they fit the answer's byte budget, read from the
// store a page at a time (the cost of an answer is its page, whatever the key holds): a domain
// index can hold more announcements than one frame carries. At least one record goes out whenever
// any is left (one record is at most max_record_bytes, well below the budget), so paging
// progresses; `next` says where the following page starts, also when the policy held some back.
wire::ValueResult Node::value_page(const NodeId& key, std::size_t offset) {
    wire::ValueResult out;
    const auto now = clock_.unix_seconds();
    auto total = store_.count(key, now);
    if (!total || *total == 0 || !is_storer(self_)) return out;
    out.total = *total;
    auto page = store_.page(key, now, offset, config_.limits.max_records_per_response);
    if (!page) return out;
    std::size_t bytes = 0;
    std::size_t position = offset;
    for (auto& r : *page) {
        const auto size = wire::encode_record(r).size();
        if (bytes + size > config_.limits.max_value_bytes_per_response && !out.records.empty()) {
            break;
        }
        ++position;
        // What this node no longer believes (say, by an author revoked since) it does not hand
        // out.
        if (!believes(r)) continue;
        bytes += size;
        out.records.push_back(std::move(r));
    }
    out.next = position;
    return out;
}

void Node::fetch_page(const wire::Contact& holder, const NodeId& key, std::size_t offset,
                      LookupCallback done) {
    if (holder.id == self_) {
        auto page = value_page(key, offset);
        LookupResult r;
        r.holder = wire::Contact{self_, address_};
        r.total = static_cast<std::size_t>(page.total);
        r.next_offset = static_cast<std::size_t>(std::max<std::uint64_t>(page.next, offset));
        r.records = std::move(page.records);
        if (done) done(std::move(r));
        return;
    }
    request(holder, wire::FindValue{key, offset},
            [this, holder, key, offset, done = std::move(done)](const InboundMessage* m) {
                const auto* resp = m ? std::get_if<wire::Response>(&m->payload) : nullptr;
                const auto* value = resp ? std::get_if<wire::ValueResult>(&resp->result) : nullptr;
                LookupResult r;
                r.holder = holder;
                r.queried = 1;
                if (value == nullptr) {
                    r.failed = 1;
                    r.next_offset = offset;
                } else {
                    r.answered = 1;
                    r.hops = 1;
                    r.records = admit_records(key, value->records, value->credentials, holder.id);
                    // A holder may skip what it no longer believes: its `next` says where it
                    // stopped; never before what it sent.
                    r.next_offset = std::max<std::size_t>(offset + value->records.size(),
                                                          static_cast<std::size_t>(value->next));
                    r.total = std::max<std::size_t>(static_cast<std::size_t>(value->total),
                                                    r.next_offset);
                }
                if (done) done(std::move(r));
            });
}

void Node::find_node(const NodeId& target, LookupCallback done, bool storers) {
    // Node and storer lookups keep their closest node (see Lookup): two attempts.
    start_lookup(target, false, storers, 2, std::move(done));
}

void Node::find_holders(const NodeId& key, LookupCallback done) {
    start_lookup(key, false, true, 1, std::move(done));
}

void Node::find_value(const NodeId& key, LookupCallback done) {
    auto read = std::make_shared<ReadJob>();
    read->key = key;
    read->done = std::move(done);
    // Holders repeat each other: the raw records of a few full copies may come in.
    read->budget = 4 * config_.max_read_records;
    // This node is one of the holders when it is responsible: its own records join the merge.
    if (responsible_for(key)) {
        for (std::size_t offset = 0; read->local.size() < read->budget;) {
            auto page = value_page(key, offset);
            for (auto& r : page.records) read->local.push_back(std::move(r));
            if (page.next <= offset || page.next >= page.total) break;
            offset = static_cast<std::size_t>(page.next);
        }
        read->budget -= std::min(read->budget, read->local.size());
    }
    // A read hears every holder it can, so one unanswered request costs it one holder: not
    // worth a second timeout.
    start_lookup(key, true, true, 1, [this, read](LookupResult found) {
        read->found = std::move(found);
        page_holders(read);
    });
}

// Holders that have more than their first answer carried are read on, page by page, each up to
// max_read_records and all within the read's budget; the records are merged when the last page
// is in.
void Node::page_holders(const std::shared_ptr<ReadJob>& read) {
    for (auto& h : read->found.holder_answers) {
        read->budget -= std::min(read->budget, h.records.size());
    }
    for (std::size_t i = 0; i < read->found.holder_answers.size(); ++i) {
        auto& h = read->found.holder_answers[i];
        if (h.sent >= h.total || read->budget == 0) continue;
        ++read->pages_in_flight;
        // One page at a time per holder; the next is asked when this one is in. The callback
        // knows itself only weakly: the request in flight owns it, so a node destroyed (or a
        // request dropped) mid-read frees the read instead of leaking a cycle (found by fuzz_peer).
        using PageCallback = std::function<void(LookupResult)>;
        auto next = std::make_shared<PageCallback>();
        const auto owned = [](std::shared_ptr<PageCallback> f) {
            return [f = std::move(f)](LookupResult page) { (*f)(std::move(page)); };
        };
        *next = [this, read, i, self = std::weak_ptr<PageCallback>(next),
                 owned](LookupResult page) {
            auto& holder = read->found.holder_answers[i];
            const bool progressed = page.next_offset > holder.sent;
            const auto take = std::min(page.records.size(), read->budget);
            read->budget -= take;
            holder.records.insert(
                holder.records.end(), std::make_move_iterator(page.records.begin()),
                std::make_move_iterator(page.records.begin() + static_cast<std::ptrdiff_t>(take)));
            holder.sent = page.next_offset;
            if (progressed && page.failed == 0 && holder.sent < holder.total && read->budget > 0 &&
                holder.records.size() < config_.max_read_records) {
                // Alive: the request that called us holds it.
                if (auto again = self.lock()) {
                    fetch_page(holder.holder, read->key, holder.sent, owned(std::move(again)));
                    return;
                }
            }
            if (--read->pages_in_flight == 0) finish_read(read);
        };
        fetch_page(h.holder, read->key, h.sent, owned(next));
    }
    if (read->pages_in_flight == 0) finish_read(read);
}

// Per record identity the highest seq: a holder that missed an update, or keeps an old version
// back, is outvoted by any holder that has the newer one (all are signed by their authors). Two
// bodies with one seq (an author contradicting itself): the smaller body, so every reader picks
// the same.
void Node::finish_read(const std::shared_ptr<ReadJob>& read) {
    std::map<std::tuple<wire::RecordKind, crypto::PublicKey, std::string>, wire::Record> best;
    const auto offer = [&](wire::Record r) {
        auto key = std::make_tuple(r.kind, r.author, r.slot);
        auto it = best.find(key);
        if (it == best.end()) {
            best.emplace(std::move(key), std::move(r));
        } else if (r.seq > it->second.seq ||
                   (r.seq == it->second.seq && r.body < it->second.body)) {
            it->second = std::move(r);
        }
    };
    LookupResult out = std::move(read->found);
    for (auto& h : out.holder_answers) {
        for (auto& r : h.records) offer(std::move(r));
    }
    if (!read->local.empty()) {
        ++out.holders;
        for (auto& r : read->local) offer(std::move(r));
    }
    out.holder_answers.clear();
    out.records.clear();
    for (auto& [key, r] : best) {
        if (out.records.size() == config_.max_read_records) break;
        out.records.push_back(std::move(r));
    }
    if (read->done) read->done(std::move(out));
}

void Node::ping(const wire::Contact& peer, PingCallback done) {
    request(peer, wire::Ping{}, [done = std::move(done)](const InboundMessage* m) {
        if (!done) return;
        if (m != nullptr && std::holds_alternative<wire::Pong>(m->payload)) {
            done(m->from.id);
        } else {
            done(std::nullopt);
        }
    });
}

void Node::put(const wire::Record& record, PutCallback done) {
    if (auto ec = wire::check_record_time(record, clock_.unix_seconds(), config_.limits)) {
        if (done) done(PutResult::refusal(code_of(ec)));
        return;
    }
    maintenance_->publish(record);
    put_once(record, std::move(done));
}

void Node::put_once(const wire::Record& record, PutCallback done) {
    find_node(
        record.key,
        [this, record, done = std::move(done)](LookupResult found) mutable {
            // This node holds the record too when it is one of the k closest storers it now
            // knows. A node that accepts no connections (a one-shot client) cannot serve what it
            // holds.
            const bool include_self = !address_.empty() && is_storer(self_) &&
                                      among_k_closest(self_, record.key, found.closest, config_.k);
            // Down nodes count only if they are storers: ids are free to mint, and a referral to
            // made-up ids next to the key must not push the real storers out of the k.
            std::vector<NodeId> responsible;
            for (const auto& id : found.failed_ids) {
                if (is_storer(id)) responsible.push_back(id);
            }
            const auto down = responsible;
            for (const auto& c : found.closest) responsible.push_back(c.id);
            if (include_self) responsible.push_back(self_);
            std::sort(
                responsible.begin(), responsible.end(),
                [&](const NodeId& a, const NodeId& b) { return distance_less(record.key, a, b); });
            responsible.erase(std::unique(responsible.begin(), responsible.end()),
                              responsible.end());
            if (responsible.size() > config_.k) responsible.resize(config_.k);
            // Responsible nodes the lookup found down did not answer either.
            const auto unreachable = static_cast<std::size_t>(
                std::count_if(down.begin(), down.end(), [&](const NodeId& id) {
                    return std::find(responsible.begin(), responsible.end(), id) !=
                           responsible.end();
                }));
            store_at(found.closest, record, include_self,
                     [responsible = std::move(responsible), unreachable,
                      done = std::move(done)](PutResult r) mutable {
                         r.responsible = std::move(responsible);
                         r.failed += unreachable;
                         if (done) done(std::move(r));
                     });
        },
        true);
}

void Node::store_on(const std::vector<wire::Contact>& nodes, const wire::Record& record,
                    PutCallback done) {
    std::vector<wire::Contact> others;
    others.reserve(nodes.size());
    bool include_self = false;
    for (const auto& n : nodes) {
        if (n.id == self_) {
            include_self = true;
        } else {
            others.push_back(n);
        }
    }
    store_at(others, record, include_self, std::move(done));
}

void Node::withdraw(const NodeId& key) {
    maintenance_->withdraw(key);
}

void Node::withdraw(const wire::Record& record) {
    maintenance_->withdraw(record);
}

void Node::store_at(const std::vector<wire::Contact>& nodes, const wire::Record& record,
                    bool include_self, PutCallback done) {
    struct Tally {
        PutResult result;
        std::size_t outstanding = 0;
        PutCallback done;
    };
    auto tally = std::make_shared<Tally>();
    tally->done = std::move(done);
    tally->outstanding = nodes.size();
    if (include_self) {
        auto local = accept_store(record, {}, self_, false);
        if (local.stored) {
            ++tally->result.stored;
            tally->result.acknowledged.push_back({self_, address_});
        } else if (local.code != errc::not_responsible) {
            ++tally->result.refused;
            tally->result.first_refusal = local.code;
        }
    }
    auto finish_one = [tally] {
        if (--tally->outstanding == 0 && tally->done) tally->done(tally->result);
    };
    if (nodes.empty()) {
        if (tally->done) tally->done(tally->result);
        return;
    }
    auto message = store_message(record);
    message.ack = true;
    for (const auto& node : nodes) {
        send_store(node, message, [this, tally, finish_one, record, node](const InboundMessage* m) {
            const auto& id = node.id;
            const auto* resp = m ? std::get_if<wire::Response>(&m->payload) : nullptr;
            const auto* result = resp ? std::get_if<wire::StoreResult>(&resp->result) : nullptr;
            if (m == nullptr) {
                ++tally->result.failed;
            } else if (result != nullptr && result->stored) {
                // A peer's "stored" is a claim: with a policy in force only an enrolled
                // agent's acknowledgement that verifies counts (node ids are free to mint).
                const bool counts =
                    policy_ == nullptr || (result->ack && is_storer(id) &&
                                           wire::verify_store_ack(*result->ack, record, id));
                ++(counts ? tally->result.stored : tally->result.unacknowledged);
                if (counts) tally->result.acknowledged.push_back(node);
            } else {
                ++tally->result.refused;
                if (tally->result.first_refusal == errc::ok) {
                    tally->result.first_refusal =
                        result ? result->code : std::get<wire::ErrorReply>(m->payload).code;
                }
            }
            finish_one();
        });
    }
}

void Node::bootstrap(const std::vector<wire::Contact>& seeds,
                     std::function<void(std::size_t)> done) {
    struct State {
        std::size_t outstanding = 0;
        std::function<void(std::size_t)> done;
    };
    auto state = std::make_shared<State>();
    state->done = std::move(done);
    auto after_pings = [this, state] {
        find_node(self_, [this, state](LookupResult found) {
            // Buckets farther than our closest neighbour hold nobody we met on the way in:
            // refresh them so that the table covers the whole key space.
            std::size_t limit = 0;
            if (!found.closest.empty()) limit = bucket_index(self_, found.closest.front().id);
            auto remaining = std::make_shared<std::size_t>(limit);
            if (limit == 0) {
                if (state->done) state->done(table_.size());
                return;
            }
            for (std::size_t b = 0; b < limit; ++b) {
                table_.mark_refreshed(b);
                find_node(random_id_in_bucket(b), [this, state, remaining](LookupResult) {
                    if (--*remaining == 0 && state->done) state->done(table_.size());
                });
            }
        });
    };
    state->outstanding = seeds.size();
    if (seeds.empty()) {
        after_pings();
        return;
    }
    for (const auto& seed : seeds) {
        ping(seed, [state, after_pings](std::optional<NodeId>) {
            if (--state->outstanding == 0) after_pings();
        });
    }
}

// ---- timers ------------------------------------------------------------------------------------

Clock::time_point Node::next_wakeup() const {
    auto t = maintenance_->next_wakeup();
    if (auto d = rpc_.next_deadline()) t = std::min(t, *d);
    if (!slow_checks_.empty()) t = std::min(t, slow_checks_.begin()->first);
    return t;
}

void Node::tick() {
    rpc_.expire([this](const wire::Contact& to) {
        ++stats_.rpc_timeouts;
        if (to.id.is_zero()) return;
        const bool known = table_.contains(to.id);
        table_.on_request_failed(to.id);
        if (known && !table_.contains(to.id)) maintenance_->peer_lost(to);
    });
    for (auto& [to, msg] : rpc_.due_resends()) {
        count_out(msg.payload);
        transport_.send(to, std::move(msg));
    }
    const auto now = clock_.now();
    while (!slow_checks_.empty() && slow_checks_.begin()->first <= now) {
        auto check = std::move(slow_checks_.begin()->second);
        slow_checks_.erase(slow_checks_.begin());
        if (auto job = check.job.lock(); job && !job->finished) {
            job->lookup.on_slow(check.id);
            pump(job);
        }
    }
    maintenance_->tick();
}

NodeId Node::random_id_in_bucket(std::size_t bucket) {
    NodeId id = self_;
    const std::size_t byte = bucket / 8;
    const auto bit = static_cast<std::uint8_t>(0x80u >> (bucket % 8));
    id[byte] ^= bit;
    // Bits after the bucket's bit are free: randomise them.
    const auto low_mask = static_cast<std::uint8_t>(bit - 1);
    id[byte] = static_cast<std::uint8_t>((id[byte] & ~low_mask) | (rng_() & low_mask));
    for (std::size_t i = byte + 1; i < NodeId::size; ++i) id[i] = static_cast<std::uint8_t>(rng_());
    return id;
}

}  // namespace nocturne::dht
