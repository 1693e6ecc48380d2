// Fuzzes what a node does with what hostile peers send it: the unchanged agent::Agent (DHT node,
// trust policy, knowledge, gossip and the other services) behind a fake transport, on a manual
// clock, with three enrolled peers in its routing table. The input is a script of frames, each
// from one of the peers: requests of any type (GOSSIP pushes, IHAVE, IWANT, SYNC, STORE, QUERY,
// ...), and answers to the requests the node sent them, whose in_reply_to is replaced by the
// captured request's id so that they are taken as the answer. Before the script the node starts
// a knowledge query (QUERY to the domain index's holders), a get (FIND_VALUE) and a gossip
// catch-up (SYNC), as the first byte says; FIND_NODE and PING are answered for the peers. Random
// bytes rarely carry a valid signature, so frames can also hold record payloads that are signed
// here (by a peer, a genesis operator or a stranger), announcements and entries built from a few
// bytes, valid trust items (certificates, a revocation, quarantine orders) signed once, and the
// answers of an honest peer (reconciliation, pulls) or of a refusing one.
//
//   build/fuzz/tools/fuzz/fuzz_peer -dict=tools/fuzz/peer.dict -entropic=0 corpus/
//
// -entropic=0: with this target's coverage (over 40,000 features, thousands of them in every
// input's setup), libFuzzer's entropic bookkeeping took twice the target's own time (perf); off,
// a run makes twice the executions.
//
// Input: byte 0 = what the node starts (bit 0 query, bit 1 its text "fuzz", bits 2-3 its limit,
// bit 4 get, bit 5 catch-up, bit 6 time runs until nothing waits at the end); then frames
// [op][length, 2 bytes big-endian][data]: peer = op % 3, action = op / 3 % 7 (see
// LLVMFuzzerTestOneInput). Everything is built per input (2 to 4 ms under the sanitizers, most of
// it the agent and its trust state) and nothing carries over but a cache of signed records, which
// changes no result: every crash reproduces from its input.

#include <nocturne/agent/agent.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/gossip/item.hpp>
#include <nocturne/gossip/item_set.hpp>
#include <nocturne/gossip/reconcile.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/endorsement.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/quarantine.hpp>
#include <nocturne/trust/revocation.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/record.hpp>
#include <nocturne/wire/reply_shape.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace nocturne;
using namespace std::chrono_literals;

constexpr std::int64_t t0 = 1'800'000'000;
constexpr std::int64_t day = 86'400;
constexpr std::size_t peer_count = 3;
// Indices of World::keys.
constexpr std::size_t genesis_op = 0, other_op = 1, self = 2, stranger = 3, first_peer = 4;

// What a peer sends is what the transport decodes: records travel encoded and are verified again.
std::optional<wire::Record> as_received(const result<wire::Record>& signed_record) {
    if (!signed_record) return std::nullopt;
    auto r = wire::decode_record(wire::encode_record(*signed_record));
    return r ? std::optional(std::move(*r)) : std::nullopt;
}

// The mesh every input starts from: genesis operator G certifies X and the peers' agent keys
// (a day ago, so that the node keeps them without spreading them); the node itself is not
// enrolled, so the peers are the holders it asks. `items` are valid gossip items, fresh at t0.
struct World {
    std::vector<crypto::KeyPair> keys;
    trust::Genesis genesis;
    std::vector<wire::Record> standing, items;
    std::vector<dht::PeerCredentials> presented;
    std::vector<NodeId> peers;

    World() {
        for (std::uint8_t n = 1; n <= first_peer + peer_count; ++n) {
            keys.push_back(crypto::KeyPair::from_seed(crypto::Seed{n, 0xf7}));
        }
        genesis.network = "fuzz-net";
        genesis.min_endorsements = 1;
        genesis.revocation_threshold = 1;
        genesis.operators.push_back({keys[genesis_op].public_key(), "g", 5});
        const auto& g = keys[genesis_op];
        for (std::size_t i = 0; i < peer_count; ++i) {
            auto r = as_received(
                         trust::sign_agent_certificate(genesis.network, g, keys[first_peer + i],
                                                       static_cast<int>(i), t0 - day, 30 * day, 1))
                         .value();
            presented.push_back(std::make_shared<const std::vector<wire::Record>>(1, r));
            peers.push_back(keys[first_peer + i].node_id());
            standing.push_back(std::move(r));
        }
        const auto& x = keys[other_op];
        const auto x_id = trust::operator_id_of(x.public_key());
        const auto now = t0 - 5;
        for (std::uint64_t seq = 1; seq <= 2; ++seq) {
            trust::TrustCertificate c{genesis.network, x_id, x.public_key(), "x", {}, 5, now,
                                      now + 30 * day};
            c.endorsements.push_back(trust::create_endorsement(g, c.public_key, now));
            add(trust::sign_certificate(c, x, seq));
        }
        add(trust::sign_agent_certificate(genesis.network, x, keys[stranger], 0, now, day, 1));
        add(trust::sign_agent_certificate(genesis.network, g, keys[first_peer], 0, now, day, 2));
        add(trust::sign_revocation_record(
            trust::create_revocation(genesis.network, x_id, "fuzz", now, {&g}), g, now));
        for (const auto action : {trust::QuarantineAction::hold, trust::QuarantineAction::lift}) {
            const auto when = action == trust::QuarantineAction::hold ? now : now + 1;
            trust::QuarantineOrder q{genesis.network, x_id, action, when, when, "", "fuzz", {}};
            if (action == trust::QuarantineAction::hold) q.until = when + 3600;
            q.signatures.push_back(trust::sign_quarantine(g, q));
            add(trust::sign_quarantine_record(q, g, when));
        }
    }
    void add(const result<wire::Record>& r) {
        if (auto copy = as_received(r)) items.push_back(std::move(*copy));
    }
};

const World& world() {
    static const World w;
    return w;
}

std::string address_of(std::size_t i) {
    return "ws://10." + std::to_string(i + 1) + ".0.2:9000";
}

struct Sent {
    NodeId to;
    std::string id;
    wire::Payload payload;
};

// The node and its transport: requests are kept so that a frame can answer them (the newest 256);
// replies go nowhere.
struct Harness final : dht::Transport {
    ManualClock clock{Clock::time_point{std::chrono::seconds{t0}}};
    std::vector<Sent> sent;
    store::MemoryStore records, trust_store, published;
    agent::Agent agent;
    std::uint64_t next_id = 0;

    static agent::AgentConfig config() {
        agent::AgentConfig c;
        c.node.seed = 1;  // message ids and random picks repeat
        return c;
    }
    Harness()
        : agent(world().keys[self], "ws://10.0.0.1:9000", clock, *this,
                agent::AgentStores{records, trust_store, published}, world().genesis, config()) {
        (void)agent.trust().learn_all(world().standing, t0);
        for (std::size_t i = 0; i < peer_count; ++i) {
            (void)agent.node().table().add({world().peers[i], address_of(i), "", clock.now()});
        }
    }

    void send(const wire::Contact& to, dht::Message msg) override {
        if (wire::is_reply(msg.payload)) return;
        if (sent.size() >= 256) sent.erase(sent.begin());
        sent.push_back({to.id, std::move(msg.id), std::move(msg.payload)});
    }
    std::optional<std::size_t> peer_index(const NodeId& id) const {
        for (std::size_t i = 0; i < peer_count; ++i) {
            if (world().peers[i] == id) return i;
        }
        return std::nullopt;
    }
    // As the peer's session hands it over: the id its handshake proved, its observed IP and the
    // credentials it presented; the address is what the message claims (by default, its own).
    void deliver(std::size_t p, std::string id, wire::Payload payload,
                 std::optional<std::string> address = std::nullopt) {
        agent.on_message(dht::InboundMessage{{world().peers[p], address.value_or(address_of(p))},
                                             std::move(id),
                                             std::move(payload),
                                             "10." + std::to_string(p + 1) + ".0.2",
                                             world().presented[p]});
    }
    std::string fresh_id() {
        char id[33];
        std::snprintf(id, sizeof id, "%032llx", static_cast<unsigned long long>(++next_id));
        return id;
    }
    // The newest request that `fits`, sent to peer p if there is one, else to another peer (p
    // becomes that peer): what a frame's answer answers.
    std::optional<Sent> take(std::size_t& p,
                             const std::function<bool(const wire::Payload&)>& fits) {
        for (const bool any : {false, true}) {
            for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
                const auto to = peer_index(it->to);
                if (!to || (!any && *to != p) || !fits(it->payload)) continue;
                p = *to;
                auto out = std::move(*it);
                sent.erase(std::next(it).base());
                return out;
            }
        }
        return std::nullopt;
    }
    // The peers answer FIND_NODE (knowing nobody closer) and PING, so that lookups end and the
    // QUERY, FIND_VALUE and SYNC requests the script answers go out.
    void settle() {
        for (int round = 0; round < 8; ++round) {
            std::vector<std::pair<std::size_t, wire::Payload>> answers;
            for (auto it = sent.begin(); it != sent.end();) {
                const auto p = peer_index(it->to);
                if (p && std::holds_alternative<wire::FindNode>(it->payload)) {
                    answers.emplace_back(*p, wire::Response{it->id, wire::NodesResult{}});
                } else if (p && std::holds_alternative<wire::Ping>(it->payload)) {
                    answers.emplace_back(*p, wire::Pong{it->id});
                } else {
                    ++it;
                    continue;
                }
                it = sent.erase(it);
            }
            if (answers.empty()) return;
            for (auto& [p, a] : answers) deliver(p, fresh_id(), std::move(a));
        }
    }
    void advance(Clock::duration d) {
        clock.advance(std::max(d, Clock::duration{1}));
        agent.tick();
    }
};

// Signing and verifying cost more than what the node does with a record, and a piece of input
// always yields the same record (Ed25519 is deterministic): the records are kept (4096 or 16 MiB
// at most), so that only the first run of an input pays for them.
std::optional<wire::Record> signed_once(std::string key,
                                        const std::function<result<wire::Record>()>& sign) {
    static std::unordered_map<std::string, std::optional<wire::Record>> cache;
    static std::size_t bytes = 0;
    if (const auto it = cache.find(key); it != cache.end()) return it->second;
    if (cache.size() >= 4096 || bytes >= (16u << 20)) {
        cache.clear();
        bytes = 0;
    }
    auto r = as_received(sign());
    bytes += key.size() + (r ? r->body.size() + r->payload.size() : 0);
    return cache[std::move(key)] = std::move(r);
}

std::uint8_t at(std::string_view s, std::size_t i) {
    return i < s.size() ? static_cast<std::uint8_t>(s[i]) : 0;
}

// Record payloads from the fuzzer, '\n'-separated, each after 4 bytes: kind, seq, age (minutes
// before t0), signer (low 3 bits: the peers, G, X, the stranger) and lifetime (high 5: 6 h units).
std::vector<wire::Record> fuzz_records(std::string_view data) {
    static constexpr std::size_t signers[8] = {first_peer,     first_peer + 1, first_peer + 2,
                                               genesis_op,     other_op,       stranger,
                                               first_peer + 1, first_peer + 2};
    std::vector<wire::Record> out;
    while (!data.empty() && out.size() < 16) {
        const auto piece = data.substr(0, data.find('\n'));
        data.remove_prefix(std::min(data.size(), piece.size() + 1));
        if (piece.size() < 4) continue;
        wire::RecordDraft d{static_cast<wire::RecordKind>(at(piece, 0) % dht::record_kind_count),
                            at(piece, 1), t0 - at(piece, 2) * 60, 0, std::string(piece.substr(4))};
        d.expires = d.created + ((at(piece, 3) >> 3) + 1) * 6 * 3600;
        const auto& key = world().keys[signers[at(piece, 3) & 7]];
        if (auto r =
                signed_once("f" + std::string(piece), [&] { return wire::sign_record(d, key); })) {
            out.push_back(std::move(*r));
        }
    }
    return out;
}

// Entries (for a FIND_VALUE) or announcements (for a QUERY) from 5 bytes each: id, seq, age,
// confidence, flags (deleted, signer, domain, words of title, tags and content).
std::vector<wire::Record> made_records(std::string_view data, bool announcements) {
    static constexpr const char* words[4] = {"fuzz", "fuzzing", "other", "fuzz other"};
    std::vector<wire::Record> out;
    for (; data.size() >= 5 && out.size() < 16; data.remove_prefix(5)) {
        const auto flags = at(data, 4);
        knowledge::KnowledgeEntry e;
        e.id = "e" + std::to_string(at(data, 0) % 4);
        e.domain = (flags & 8) != 0 ? "other" : "fuzz";
        e.title = words[(flags >> 4) & 3];
        e.content = words[(flags >> 7) * 2];
        if ((flags & 64) != 0) e.tags = {"fuzz"};
        e.confidence = at(data, 3) / 255.0;
        e.seq = 1 + at(data, 1) % 4;
        e.created = t0 - (at(data, 2) % 16) * 60;
        e.expires = e.created + day;
        const auto& key =
            world().keys[(flags & 6) == 6 ? stranger : first_peer + ((flags >> 1) & 3)];
        const knowledge::TombstoneTimes times{e.seq, e.created, e.expires};
        const bool deleted = (flags & 1) != 0;
        auto r = signed_once((announcements ? "a" : "e") + std::string(data.substr(0, 5)), [&] {
            return deleted ? (announcements
                                  ? knowledge::sign_announce_tombstone(e.domain, e.id, times, key)
                                  : knowledge::sign_entry_tombstone(e.domain, e.id, times, key))
                           : (announcements ? knowledge::sign_announcement(e, key)
                                            : knowledge::sign_entry(e, key));
        });
        if (r) out.push_back(std::move(*r));
    }
    return out;
}

// Answers the newest QUERY, FIND_VALUE or IWANT with the records `make` builds for it; flags:
// more, credentials (the valid items), the total a holder claims (paging).
void answer_with(Harness& h, std::size_t p, std::uint8_t flags,
                 const std::function<std::vector<wire::Record>(const wire::Payload&)>& make) {
    const auto request = h.take(p, [](const wire::Payload& r) {
        return std::holds_alternative<wire::Query>(r) ||
               std::holds_alternative<wire::FindValue>(r) || std::holds_alternative<wire::IWant>(r);
    });
    if (!request) return;
    auto records = make(request->payload);
    auto credentials = (flags & 2) != 0 ? world().items : std::vector<wire::Record>{};
    wire::ResponseBody body;
    if (std::holds_alternative<wire::Query>(request->payload)) {
        body = wire::QueryResult{std::move(records), std::move(credentials), (flags & 1) != 0};
    } else if (std::holds_alternative<wire::FindValue>(request->payload)) {
        const auto total = (flags >> 2) != 0 ? records.size() + (flags >> 2) : 0;
        body = wire::ValueResult{std::move(records), {}, std::move(credentials), total, 0};
    } else {
        body = wire::ItemsResult{std::move(records), std::move(credentials)};
    }
    h.deliver(p, h.fresh_id(), wire::Response{request->id, std::move(body)});
}

// The in_reply_to of an answer, to be replaced.
std::string* reply_id_of(wire::Payload& payload) {
    if (auto* p = std::get_if<wire::Pong>(&payload)) return &p->in_reply_to;
    if (auto* p = std::get_if<wire::Response>(&payload)) return &p->in_reply_to;
    if (auto* p = std::get_if<wire::ErrorReply>(&payload)) return &p->in_reply_to;
    return nullptr;
}

// An answer an honest peer (holding the valid items `mask` picks) or a refusing one would send.
void reply_to(Harness& h, std::size_t p, std::string_view data) {
    const auto request = h.take(p, [](const wire::Payload&) { return true; });
    if (!request) return;
    const auto& id = request->id;
    const auto how = at(data, 0) % 4;
    const auto mask = at(data, 1);
    if (how < 2) {
        static constexpr errc codes[4] = {errc::invalid_evidence, errc::unexpected_message,
                                          errc::remote_error, errc::not_responsible};
        wire::ErrorReply e{id, how == 0 ? errc::rate_limited : codes[mask % 4], "no"};
        if (how == 0) e.retry_after_ms = mask * 256u;
        h.deliver(p, h.fresh_id(), std::move(e));
        return;
    }
    gossip::ItemSet held;
    for (std::size_t i = 0; i < world().items.size() && i < 8; ++i) {
        const auto& r = world().items[i];
        if (const auto cls = gossip::class_of(r.kind); cls && ((mask >> i) & 1) != 0) {
            held.add(gossip::item_id(r), r, *cls, h.clock.now() + 1h);
        }
    }
    // What the other frames do not answer: a refusal.
    wire::Payload answer = wire::ErrorReply{id, errc::unexpected_message, "no"};
    if (const auto* have = std::get_if<wire::IHave>(&request->payload)) {
        wire::GossipAck ack;
        for (std::size_t i = 0; i < have->ids.size(); ++i) {
            if (((mask >> (i % 8)) & 1) != 0) ack.want.push_back(have->ids[i]);
        }
        answer = wire::Response{id, std::move(ack)};
    } else if (const auto* want = std::get_if<wire::IWant>(&request->payload)) {
        wire::ItemsResult items;
        for (const auto& w : want->ids) {
            if (const auto* r = held.find(w)) items.items.push_back(*r);
        }
        answer = wire::Response{id, std::move(items)};
    } else if (const auto* sync = std::get_if<wire::Sync>(&request->payload)) {
        answer = wire::Response{id, gossip::answer_sync(held, *sync)};
    } else if (const auto* push = std::get_if<wire::Gossip>(&request->payload)) {
        answer = wire::Response{
            id, wire::GossipAck{static_cast<std::uint32_t>(push->items.size() * (mask & 1))}};
    }
    h.deliver(p, h.fresh_id(), std::move(answer));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    Harness h;
    const auto setup = data[0];
    if ((setup & 1) != 0) {
        knowledge::Query q{"fuzz", (setup & 2) != 0 ? "fuzz" : "", 0.0, 1 + (setup >> 2) % 4, ""};
        h.agent.knowledge().query(std::move(q), [](auto) {});
    }
    if ((setup & 16) != 0) h.agent.knowledge().get("fuzz", "e0", [](auto) {});
    if ((setup & 32) != 0) h.agent.gossip().catch_up(peer_count);
    h.settle();

    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    while (input.size() >= 3) {
        const auto op = at(input, 0);
        const std::size_t length = at(input, 1) << 8 | at(input, 2);
        const auto frame = input.substr(3, length);
        input.remove_prefix(std::min(input.size(), 3 + length));
        const std::size_t p = op % peer_count;
        switch (op / peer_count % 7) {
            case 0: {
                // A message as the peer's session decodes it; an answer answers what fits.
                auto env = wire::decode_message(frame);
                if (!env) break;
                auto from = p;
                if (auto* reply_id = reply_id_of(env->payload)) {
                    const auto& payload = env->payload;
                    if (auto request = h.take(from, [&](const wire::Payload& r) {
                            const auto shape = wire::reply_shape(r);
                            return shape && shape->matches(payload);
                        })) {
                        *reply_id = request->id;
                    }
                }
                h.deliver(from, std::move(env->id), std::move(env->payload),
                          std::move(env->sender.address));
                break;
            }
            case 1:
                h.deliver(p, h.fresh_id(), wire::Gossip{fuzz_records(frame)});
                break;
            case 2:
            case 3: {
                // Fuzzed payloads, or entries and announcements (for a QUERY) built from bytes.
                const auto rest = frame.substr(std::min<std::size_t>(1, frame.size()));
                const bool made = op / peer_count % 7 == 3;
                answer_with(h, p, at(frame, 0), [&](const wire::Payload& request) {
                    return made ? made_records(rest, std::holds_alternative<wire::Query>(request))
                                : fuzz_records(rest);
                });
                break;
            }
            case 4: {
                // Valid items pushed; a byte with the high bit set sends its item as a credential.
                wire::Gossip push;
                for (const auto c : frame.substr(0, 16)) {
                    const auto b = static_cast<std::uint8_t>(c);
                    const auto& r = world().items[b % world().items.size()];
                    ((b & 0x80) != 0 ? push.credentials : push.items).push_back(r);
                }
                h.deliver(p, h.fresh_id(), std::move(push));
                break;
            }
            case 5: {
                // Time passes: to the node's next wakeup, or by up to 11 minutes.
                const auto until = h.agent.next_wakeup() - h.clock.now();
                h.advance(frame.size() < 2
                              ? std::min<Clock::duration>(until, 10min)
                              : Clock::duration{(at(frame, 0) << 8 | at(frame, 1)) * 10});
                break;
            }
            case 6:
                reply_to(h, p, frame);
                break;
        }
        h.settle();
    }
    // Bit 6: the requests nobody answered time out, and what their failures start does too,
    // until nothing waits. Otherwise the node is destroyed with its requests in flight, as at a
    // shutdown (where a paged read's callback once kept itself alive: it leaked).
    for (int i = 0; (setup & 0x40) != 0 && i < 8 && (i < 2 || h.agent.node().pending_rpcs() > 0);
         ++i) {
        h.advance(6s);
        h.settle();
    }
    return 0;
}
