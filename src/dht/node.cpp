#include <nocturne/core/hex.hpp>
#include <nocturne/core/overloaded.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/dht/node.hpp>

#include <algorithm>
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
    bool finished = false;
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
      rpc_(clock, config_.rpc_timeout, config_.seed) {
    if (config_.seed == 0) {
        std::uint64_t seed = 0;
        crypto::random_fill({reinterpret_cast<std::uint8_t*>(&seed), sizeof seed});
        rng_.seed(seed);
    }
    maintenance_ = std::make_unique<Maintenance>(*this);
}

Node::~Node() = default;

void Node::send(const wire::Contact& to, wire::Payload payload) {
    ++stats_.messages_out;
    transport_.send(to, Message{rpc_.next_id(), std::move(payload)});
}

void Node::request(const wire::Contact& to, wire::Payload payload, ResponseHandler handler) {
    auto msg = rpc_.start(to, std::move(payload), std::move(handler));
    ++stats_.messages_out;
    transport_.send(to, std::move(msg));
}

void Node::reply(const InboundMessage& request, wire::Payload answer) {
    send(request.from, std::move(answer));
}

void Node::serve(wire::MessageType type, RequestHandler handler) {
    services_[static_cast<std::size_t>(type)] = std::move(handler);
}

// ---- inbound -----------------------------------------------------------------------------------

void Node::on_message(InboundMessage msg) {
    learn(msg.from);
    if (wire::is_reply(msg.payload)) {
        handle_answer(msg);
    } else {
        ++stats_.requests_in;
        handle_request(msg);
    }
}

void Node::handle_request(const InboundMessage& msg) {
    std::visit(overloaded{
                   [&](const wire::Ping&) { reply(msg, wire::Pong{msg.id}); },
                   [&](const wire::FindNode& p) {
                       reply(msg, wire::Response{msg.id, wire::NodesResult{closest_contacts(
                                                             p.target, config_.k, msg.from.id)}});
                   },
                   [&](const wire::FindValue& p) {
                       auto all = local_records(p.key);
                       wire::ValueResult out;
                       if (!all.empty()) {
                           out = value_page(std::move(all), p.offset);
                           out.credentials = credentials_for_all(out.records);
                       } else {
                           out.peers = closest_contacts(p.key, config_.k, msg.from.id);
                       }
                       reply(msg, wire::Response{msg.id, std::move(out)});
                   },
                   [&](const wire::Store& p) {
                       auto result = accept_store(p.record, p.credentials, msg.from.id);
                       if (result.stored) {
                           ++stats_.stores_accepted;
                           maintenance_->note_stored(p.record.key);
                       } else {
                           ++stats_.stores_refused;
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
    switch (rpc_.on_answer(msg)) {
        case RpcManager::Verdict::delivered:
            ++stats_.responses_in;
            break;
        case RpcManager::Verdict::wrong_shape:  // the request failed
            ++stats_.responses_in;
            ++stats_.unexpected;
            break;
        case RpcManager::Verdict::unknown:
        case RpcManager::Verdict::wrong_peer:
            ++stats_.unexpected;
            break;
    }
}

void Node::learn(const wire::Contact& contact) {
    // Peers that accept no connections can ask us things but cannot serve others.
    if (contact.address.empty() || contact.id == self_) return;
    const auto outcome = table_.add(PeerInfo{contact.id, contact.address, "", clock_.now(), 0});
    using Status = RoutingTable::AddResult::Status;
    if (outcome.status == Status::added) {
        maintenance_->offer_records_to(contact);
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

std::vector<wire::Contact> Node::closest_contacts(const NodeId& target, std::size_t n,
                                                  const NodeId& exclude) const {
    std::vector<wire::Contact> out;
    for (const auto& p : table_.closest_n(target, n + 1)) {
        if (p.id == exclude) continue;
        if (out.size() == n) break;
        out.push_back({p.id, p.address});
    }
    return out;
}

bool Node::responsible_for(const NodeId& key) const {
    return among_k_closest(self_, key, table_.closest_n(key, config_.k), config_.k);
}

wire::StoreResult Node::accept_store(const wire::Record& record,
                                     std::span<const wire::Record> credentials,
                                     const NodeId& from) {
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
    if (auto stored = store_.put(record); !stored) return {false, code_of(stored.error())};
    return {true, errc::ok};
}

wire::Store Node::store_message(const wire::Record& record) {
    wire::Store out{record};
    if (policy_ != nullptr)
        out.credentials = policy_->credentials_for(record, config_.limits.max_credentials);
    return out;
}

std::vector<wire::Record> Node::credentials_for_all(const std::vector<wire::Record>& records) {
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

void Node::start_lookup(const NodeId& target, bool want_value, LookupCallback done) {
    std::vector<wire::Contact> seeds;
    for (const auto& p : table_.closest_n(target, config_.k)) seeds.push_back({p.id, p.address});
    auto job = std::make_shared<LookupJob>(LookupJob{
        Lookup(self_, target, want_value, config_.k, config_.alpha, seeds), std::move(done)});
    pump(job);
}

void Node::pump(const std::shared_ptr<LookupJob>& job) {
    if (job->finished) return;
    if (job->lookup.done()) {
        job->finished = true;
        if (job->done) job->done(job->lookup.result());
        return;
    }
    for (const auto& contact : job->lookup.next_queries()) {
        wire::Payload query = job->lookup.want_value()
                                  ? wire::Payload{wire::FindValue{job->lookup.target()}}
                                  : wire::Payload{wire::FindNode{job->lookup.target()}};
        request(contact, std::move(query), [this, job, id = contact.id](const InboundMessage* m) {
            const auto* resp = m ? std::get_if<wire::Response>(&m->payload) : nullptr;
            if (resp == nullptr) {
                job->lookup.on_failure(id);
            } else if (const auto* nodes = std::get_if<wire::NodesResult>(&resp->result)) {
                job->lookup.on_answer(id, nodes->peers, {});
            } else if (const auto* value = std::get_if<wire::ValueResult>(&resp->result)) {
                job->lookup.on_answer(
                    id, value->peers, admit_answer(job->lookup.target(), *value, id),
                    static_cast<std::size_t>(value->total), value->records.size());
            }
            pump(job);
        });
    }
    // A lookup whose candidates have all failed or been asked, with nothing in flight, is done.
    if (job->lookup.done() && !job->finished) pump(job);
}

// Records were verified by the transport; keep those that belong to this key and are still
// alive, and that the trust policy accepts.
std::vector<wire::Record> Node::admit_answer(const NodeId& key, const wire::ValueResult& value,
                                             const NodeId& from) {
    std::vector<wire::Record> records;
    const auto now_s = clock_.unix_seconds();
    // Once per answer, not per record: a certificate that fails costs its checks once.
    if (policy_ != nullptr) policy_->learn_credentials(value.credentials);
    for (const auto& r : value.records) {
        if (r.key != key) continue;
        if (wire::check_record_time(r, now_s, config_.limits)) continue;
        if (policy_ != nullptr &&
            policy_->admit(r, value.credentials, from, RecordPolicy::Use::read)) {
            continue;
        }
        records.push_back(r);
    }
    return records;
}

// The records from number `offset` on while they fit the answer's byte budget: a domain index
// can hold more announcements than one frame carries. At least one record goes out whenever any
// is left (one record is at most max_record_bytes, well below the budget), so paging progresses.
wire::ValueResult Node::value_page(std::vector<wire::Record> records, std::size_t offset) const {
    wire::ValueResult out;
    out.total = records.size();
    std::size_t bytes = 0;
    for (std::size_t i = offset; i < records.size(); ++i) {
        if (out.records.size() == config_.limits.max_records_per_response) break;
        bytes += wire::encode_record(records[i]).size();
        if (bytes > config_.limits.max_value_bytes_per_response && !out.records.empty()) break;
        out.records.push_back(std::move(records[i]));
    }
    return out;
}

void Node::fetch_page(const wire::Contact& holder, const NodeId& key, std::size_t offset,
                      LookupCallback done) {
    if (holder.id == self_) {
        // No byte budget for our own store: nothing crosses the wire.
        auto all = local_records(key);
        LookupResult r;
        r.holder = wire::Contact{self_, address_};
        r.total = all.size();
        r.next_offset = all.size();
        if (offset < all.size()) {
            r.records.assign(
                std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(offset)),
                std::make_move_iterator(all.end()));
        }
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
                    r.records = admit_answer(key, *value, holder.id);
                    r.next_offset = offset + value->records.size();
                    r.total = std::max<std::size_t>(static_cast<std::size_t>(value->total),
                                                    r.next_offset);
                }
                if (done) done(std::move(r));
            });
}

void Node::find_node(const NodeId& target, LookupCallback done) {
    start_lookup(target, false, std::move(done));
}

std::vector<wire::Record> Node::local_records(const NodeId& key) {
    auto records = store_.get(key, clock_.unix_seconds());
    if (!records) return {};
    // What this node no longer believes (say, by an author revoked since) it does not hand out.
    if (policy_ != nullptr) {
        std::erase_if(*records, [&](const wire::Record& r) {
            return static_cast<bool>(policy_->admit(r, {}, self_, RecordPolicy::Use::read));
        });
    }
    return std::move(*records);
}

void Node::find_value(const NodeId& key, LookupCallback done) {
    if (auto local = local_records(key); !local.empty()) {
        LookupResult r;
        r.holder = wire::Contact{self_, address_};
        r.total = local.size();
        r.next_offset = local.size();
        r.records = std::move(local);
        if (done) done(std::move(r));
        return;
    }
    start_lookup(key, true, std::move(done));
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
        if (done) done(PutResult{0, 1, 0, code_of(ec)});
        return;
    }
    maintenance_->publish(record);
    put_once(record, std::move(done));
}

void Node::put_once(const wire::Record& record, PutCallback done) {
    find_node(record.key, [this, record, done = std::move(done)](LookupResult found) mutable {
        // This node holds the record too when it is one of the k closest it now knows.
        // A node that accepts no connections (a one-shot client) cannot serve what it holds.
        const bool include_self =
            !address_.empty() && among_k_closest(self_, record.key, found.closest, config_.k);
        store_at(found.closest, record, include_self, std::move(done));
    });
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
        auto local = accept_store(record, {}, self_);
        if (local.stored) {
            ++tally->result.stored;
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
    const auto message = store_message(record);
    for (const auto& node : nodes) {
        request(node, message, [tally, finish_one](const InboundMessage* m) {
            const auto* resp = m ? std::get_if<wire::Response>(&m->payload) : nullptr;
            const auto* result = resp ? std::get_if<wire::StoreResult>(&resp->result) : nullptr;
            if (m == nullptr) {
                ++tally->result.failed;
            } else if (result != nullptr && result->stored) {
                ++tally->result.stored;
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
    return t;
}

void Node::tick() {
    rpc_.expire([this](const wire::Contact& to) {
        ++stats_.rpc_timeouts;
        if (!to.id.is_zero()) table_.on_request_failed(to.id);
    });
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
