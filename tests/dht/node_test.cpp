// One dht::Node driven through a recording transport on a manual clock, its answers checked
// exactly (libtorrent's test_dht.cpp drives one node through a mock socket the same way).

#include <nocturne/crypto/keys.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/dht/address_verifier.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/wire/record.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nocturne::dht {
namespace {

using namespace std::chrono_literals;

// Everything the node sends, in order.
class RecordingTransport final : public Transport {
public:
    struct Sent {
        wire::Contact to;
        Message message;
    };
    void send(const wire::Contact& to, Message msg) override {
        sent.push_back({to, std::move(msg)});
    }
    std::vector<Sent> take() { return std::exchange(sent, {}); }
    std::vector<Sent> sent;
};

NodeId id_with_first_byte(std::uint8_t first, std::uint8_t rest = 0) {
    NodeId id;
    id[0] = first;
    for (std::size_t i = 1; i < NodeId::size; ++i) id[i] = rest;
    return id;
}

wire::Contact peer(std::uint8_t first, std::uint8_t rest = 0) {
    return {id_with_first_byte(first, rest),
            "ws://10.0." + std::to_string(first) + "." + std::to_string(rest) + ":9090"};
}

class NodeTest : public ::testing::Test {
protected:
    NodeTest() : node_(self_, "ws://10.9.9.9:9090", clock_, transport_, store_, config()) {}

    static NodeConfig config() {
        NodeConfig c;
        c.k = 4;
        c.seed = 5;
        c.rpc_timeout = 5s;
        c.table.max_per_bucket_per_group = 0;  // test addresses share /24s
        c.table.max_per_table_per_group = 0;
        c.keys_per_tick = 8;
        c.maintenance_bytes_per_tick = 128 * 1024;
        return c;
    }

    // A request from `from`, as the transport delivers it: the IP its connection comes from is
    // the one in its address.
    void deliver(const wire::Contact& from, std::string id, wire::Payload payload) {
        const auto host = from.address.substr(5, from.address.rfind(':') - 5);
        node_.on_message(InboundMessage{from, std::move(id), std::move(payload), host});
    }

    // A peer writes to us and answers our dial-back to its address: it is in the table (or in
    // its bucket's replacement cache, when the bucket is full).
    void introduce(const wire::Contact& from) {
        deliver(from, std::string(32, 'p'), wire::Ping{});
        for (const auto& s : transport_.take()) {
            if (!s.message.verify_address) continue;
            EXPECT_EQ(s.to, from);
            deliver(from, std::string(32, 'q'), wire::Pong{s.message.id});
        }
        transport_.take();
    }

    // The one message sent, which must go to `to` (dial-backs to peers not yet verified aside).
    Message only_sent_to(const wire::Contact& to) {
        auto sent = transport_.take();
        std::erase_if(sent, [](const auto& s) { return s.message.verify_address; });
        EXPECT_EQ(sent.size(), 1u);
        if (sent.empty()) return {};
        EXPECT_EQ(sent[0].to, to);
        return std::move(sent[0].message);
    }

    // A lookup that `start` begins, run to its end: each FIND_NODE it sends is answered at once
    // (with no referrals) when `answers` says its peer is up, and never otherwise; the clock
    // advances 5 s at a time while it waits. Returns its result and the FIND_NODEs sent.
    struct Driven {
        LookupResult result;
        std::vector<wire::Contact> asked;  // one per FIND_NODE, in order
        std::size_t for_storers = 0;       // of which asked for storers only
        std::size_t asked_of(const wire::Contact& c) const {
            return static_cast<std::size_t>(std::count(asked.begin(), asked.end(), c));
        }
    };
    Driven drive(const std::function<void(Node::LookupCallback)>& start,
                 const std::function<bool(const wire::Contact&)>& answers) {
        std::optional<LookupResult> out;
        Driven d;
        start([&](LookupResult r) { out = std::move(r); });
        for (int step = 0; step < 4 && !out; ++step) {
            for (auto& s : transport_.take()) {
                const auto* find = std::get_if<wire::FindNode>(&s.message.payload);
                if (find == nullptr) continue;
                d.asked.push_back(s.to);
                d.for_storers += find->storers ? 1 : 0;
                if (answers(s.to)) {
                    deliver(s.to, std::string(32, 'a'),
                            wire::Response{s.message.id, wire::NodesResult{}});
                }
            }
            if (!out) {
                clock_.advance(5s);
                node_.tick();
            }
        }
        EXPECT_TRUE(out.has_value()) << "the lookup did not end";
        d.result = out.value_or(LookupResult{});
        return d;
    }
    Driven drive_find_node(const NodeId& target,
                           const std::function<bool(const wire::Contact&)>& answers) {
        return drive([&](Node::LookupCallback cb) { node_.find_node(target, std::move(cb)); },
                     answers);
    }

    template <class T>
    static const T& result_of(const Message& m) {
        return std::get<T>(std::get<wire::Response>(m.payload).result);
    }

    wire::Record record(const std::string& id, std::int64_t ttl = 3600, std::uint64_t seq = 1) {
        const auto now = clock_.unix_seconds();
        return wire::sign_record({wire::RecordKind::knowledge, seq, now, now + ttl,
                                  R"({"domain":"node","id":")" + id + R"("})"},
                                 author_)
            .value();
    }

    NodeId self_ = id_with_first_byte(0x80);
    ManualClock clock_;
    RecordingTransport transport_;
    store::MemoryStore store_;
    crypto::KeyPair author_ = crypto::KeyPair::from_seed(crypto::Seed{9});
    Node node_;
};

TEST_F(NodeTest, PingIsAnsweredAndTheSenderIsLearnedOnlyOnceADialBackProvesItsAddress) {
    const auto a = peer(0x10);
    deliver(a, std::string(32, '1'), wire::Ping{});
    auto sent = transport_.take();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].to, a);
    EXPECT_EQ(std::get<wire::Pong>(sent[0].message.payload).in_reply_to, std::string(32, '1'));
    EXPECT_FALSE(sent[0].message.verify_address);
    // The dial-back: a PING over a new connection to the claimed port at the observed IP.
    EXPECT_EQ(sent[1].to, a);
    EXPECT_TRUE(std::holds_alternative<wire::Ping>(sent[1].message.payload));
    EXPECT_TRUE(sent[1].message.verify_address);
    EXPECT_FALSE(node_.table().contains(a.id)) << "not passed on before it is verified";
    deliver(a, std::string(32, '2'), wire::Pong{sent[1].message.id});
    EXPECT_TRUE(node_.table().contains(a.id));
    EXPECT_EQ(node_.stats().contacts_verified, 1u);
    EXPECT_EQ(node_.stats().requests_in, 1u);
}

TEST_F(NodeTest, AClaimedAddressIsDialedAtTheObservedIpAndAFailedDialBackTeachesNothing) {
    // It claims another host's address; only its port counts, at the IP it wrote from.
    const wire::Contact liar{id_with_first_byte(0x11), "ws://192.0.2.7:4444"};
    node_.on_message(InboundMessage{liar, std::string(32, '1'), wire::Ping{}, "10.0.17.0"});
    auto sent = transport_.take();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[1].to.address, "ws://10.0.17.0:4444");
    EXPECT_TRUE(sent[1].message.verify_address);
    // Nobody with that id answers there: the dial fails at once, not at a deadline.
    node_.on_undeliverable(sent[1].message.id);
    EXPECT_FALSE(node_.table().contains(liar.id));
    EXPECT_EQ(node_.stats().verifications_failed, 1u);
    EXPECT_EQ(node_.stats().undeliverable, 1u);
    EXPECT_EQ(node_.pending_rpcs(), 0u);
    // A client without an address (a one-shot command) is answered and not dialed back.
    node_.on_message(InboundMessage{
        {id_with_first_byte(0x12), ""}, std::string(32, '2'), wire::Ping{}, "10.0.18.0"});
    EXPECT_EQ(transport_.take().size(), 1u);
}

TEST_F(NodeTest, AnAddressIsDialedBackOnceAtATimeAndNotAgainSoonAfterItFailedWhoeverClaimsIt) {
    // Fresh ids cost nothing: every claim of one address must not cost us a connection.
    const auto claim = [&](std::uint8_t id_byte) {
        const wire::Contact claimant{id_with_first_byte(id_byte), "ws://192.0.2.7:4444"};
        node_.on_message(
            InboundMessage{claimant, crypto::random_hex_id(), wire::Ping{}, "10.0.17.0"});
        std::vector<Message> dials;
        for (auto& s : transport_.take()) {
            if (s.message.verify_address) dials.push_back(std::move(s.message));
        }
        return dials;
    };
    const auto first = claim(0x11);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(claim(0x12).empty()) << "one dial-back in flight per address";
    node_.on_undeliverable(first[0].id);
    EXPECT_TRUE(claim(0x13).empty()) << "a failed address is not dialed again at once";
    clock_.advance(4min);
    EXPECT_TRUE(claim(0x14).empty());
    clock_.advance(1min);
    EXPECT_EQ(claim(0x15).size(), 1u) << "after the back-off it may be tried again";
    // Another port at that IP is another address.
    const wire::Contact other{id_with_first_byte(0x16), "ws://192.0.2.7:4445"};
    node_.on_message(InboundMessage{other, crypto::random_hex_id(), wire::Ping{}, "10.0.17.0"});
    EXPECT_EQ(transport_.take().size(), 2u);
}

TEST_F(NodeTest, APeerProvenAtItsAddressIsNotDialedBackForEveryMessageItSends) {
    for (std::uint8_t b = 0x01; b <= 0x04; ++b) introduce(peer(b));
    const auto late = peer(0x05);
    introduce(late);  // proven, but its bucket is full: cached, not in the table
    ASSERT_FALSE(node_.table().find(late.id));
    const auto dial_backs = [&] {
        const auto sent = transport_.take();
        return std::count_if(sent.begin(), sent.end(),
                             [](const auto& s) { return s.message.verify_address; });
    };
    for (int i = 0; i < 5; ++i) {
        deliver(late, crypto::random_hex_id(), wire::Ping{});
        EXPECT_EQ(dial_backs(), 0) << "message " << i;
    }
    clock_.advance(11min);
    deliver(late, crypto::random_hex_id(), wire::Ping{});
    EXPECT_EQ(dial_backs(), 1) << "proven again once the proof is old";
}

TEST(AddressVerifier, RemembersAtMostMaxVerifiedProofsTheOldestForgottenFirst) {
    AddressVerifier::Options options;
    options.max_verified = 2;
    AddressVerifier v(options);
    const Clock::time_point t0{};
    for (std::uint8_t b = 1; b <= 3; ++b) {
        const auto p = peer(b);
        ASSERT_TRUE(v.begin(p.id, p.address, t0));
        v.end(p.id, p.address, true, t0 + std::chrono::seconds(b));
    }
    EXPECT_EQ(v.verified_remembered(), 2u);
    EXPECT_FALSE(v.verified(peer(1).id, peer(1).address, t0 + 5s)) << "the oldest is forgotten";
    EXPECT_TRUE(v.verified(peer(3).id, peer(3).address, t0 + 5s));
    // Another peer at a proven address, or the peer at another address, is not proven.
    EXPECT_FALSE(v.verified(peer(2).id, peer(3).address, t0 + 5s));
    // A peer proven again many times keeps one entry.
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(v.begin(peer(3).id, peer(3).address, t0));
        v.end(peer(3).id, peer(3).address, true, t0 + std::chrono::seconds(10 + i));
    }
    EXPECT_EQ(v.verified_remembered(), 2u);
}

TEST_F(NodeTest, AKnownPeerBackOnAnotherPortIsVerifiedThereBeforeItMoves) {
    const auto a = peer(0x13);
    introduce(a);
    const wire::Contact moved{a.id, "ws://10.0.19.0:9191"};
    deliver(moved, std::string(32, '3'), wire::Ping{});
    auto sent = transport_.take();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_TRUE(sent[1].message.verify_address);
    EXPECT_EQ(sent[1].to, moved);
    EXPECT_EQ(node_.table().find(a.id)->address, a.address) << "not before the dial-back";
    deliver(moved, std::string(32, '4'), wire::Pong{sent[1].message.id});
    EXPECT_EQ(node_.table().find(a.id)->address, moved.address);
    // Heard again at the same address: nothing to verify.
    deliver(moved, std::string(32, '5'), wire::Ping{});
    EXPECT_EQ(transport_.take().size(), 1u);
}

TEST_F(NodeTest, FindNodeAnswersTheClosestKnownContactsButNeverTheAsker) {
    for (int b : {0x01, 0x02, 0x03, 0x41, 0x42, 0xC1})
        introduce(peer(static_cast<std::uint8_t>(b)));
    const auto asker = peer(0x01);
    deliver(asker, std::string(32, 'f'), wire::FindNode{id_with_first_byte(0x02, 0x7)});
    const auto reply = only_sent_to(asker);
    const auto& peers = result_of<wire::NodesResult>(reply).peers;
    // k = 4 closest to 0x02..: 0x02, 0x03, then the 0x4x ones; the asker (0x01) is left out.
    ASSERT_EQ(peers.size(), 4u);
    EXPECT_EQ(peers[0].id, peer(0x02).id);
    EXPECT_EQ(peers[1].id, peer(0x03).id);
    for (const auto& c : peers) EXPECT_NE(c.id, asker.id);
}

TEST_F(NodeTest, FindValueAnswersHeldRecordsWithTotalsAndPagesFromAnOffset) {
    const auto asker = peer(0x11);
    const auto r = record("v1");
    ASSERT_TRUE(store_.put(r));
    deliver(asker, std::string(32, 'a'), wire::FindValue{r.key, 0});
    auto reply = only_sent_to(asker);
    const auto& found = result_of<wire::ValueResult>(reply);
    ASSERT_EQ(found.records.size(), 1u);
    EXPECT_EQ(found.records[0].body, r.body);
    EXPECT_EQ(found.total, 1u);
    EXPECT_TRUE(found.peers.empty());

    // Past the end: no records, the total still says how many there are.
    deliver(asker, std::string(32, 'b'), wire::FindValue{r.key, 1});
    reply = only_sent_to(asker);
    EXPECT_TRUE(result_of<wire::ValueResult>(reply).records.empty());
    EXPECT_EQ(result_of<wire::ValueResult>(reply).total, 1u);

    // A key it does not hold: contacts instead.
    deliver(asker, std::string(32, 'c'), wire::FindValue{id_with_first_byte(0x12), 0});
    reply = only_sent_to(asker);
    EXPECT_TRUE(result_of<wire::ValueResult>(reply).records.empty());
    EXPECT_EQ(result_of<wire::ValueResult>(reply).total, 0u);
}

TEST_F(NodeTest, StoreIsAcceptedOnlyWhenTheRecordIsAliveNewerAndOurs) {
    const auto sender = peer(0x21);
    const auto fresh = record("s1", 3600, 2);
    deliver(sender, std::string(32, '1'), wire::Store{fresh});
    auto reply = only_sent_to(sender);
    EXPECT_TRUE(result_of<wire::StoreResult>(reply).stored);
    EXPECT_EQ(result_of<wire::StoreResult>(reply).code, errc::ok);
    EXPECT_EQ(store_.size().value(), 1u);

    deliver(sender, std::string(32, '2'), wire::Store{record("s1", 3600, 1)});
    reply = only_sent_to(sender);
    EXPECT_FALSE(result_of<wire::StoreResult>(reply).stored);
    EXPECT_EQ(result_of<wire::StoreResult>(reply).code, errc::stale_seq);

    auto old = record("s2", 10);
    clock_.advance(11s);
    deliver(sender, std::string(32, '3'), wire::Store{old});
    reply = only_sent_to(sender);
    EXPECT_EQ(result_of<wire::StoreResult>(reply).code, errc::record_expired);

    // Four known nodes closer to a key than we are: not ours to hold.
    const auto far = record("s3");
    for (std::uint8_t i = 1; i <= 4; ++i) {
        NodeId near = far.key;
        near[NodeId::size - 1] ^= i;  // differs from the key only in the last byte
        introduce({near, "ws://10.1." + std::to_string(i) + ".1:1"});
    }
    transport_.take();
    deliver(sender, std::string(32, '4'), wire::Store{far});
    reply = only_sent_to(sender);
    EXPECT_EQ(result_of<wire::StoreResult>(reply).code, errc::not_responsible);
    EXPECT_EQ(node_.stats().stores_accepted, 1u);
    EXPECT_EQ(node_.stats().stores_refused, 3u);
}

TEST_F(NodeTest, RequestsNobodyServesAreRefusedAndServedOnesReachTheirService) {
    const auto a = peer(0x31);
    const wire::Vote vote{id_with_first_byte(0x44), "commit", std::string(64, 'c'), {}, {}, {},
                          std::string(64, 'o')};
    deliver(a, std::string(32, '1'), vote);
    auto reply = only_sent_to(a);
    const auto& refusal = std::get<wire::ErrorReply>(reply.payload);
    EXPECT_EQ(refusal.in_reply_to, std::string(32, '1'));
    EXPECT_EQ(refusal.code, errc::unexpected_message);

    int served = 0;
    node_.serve(wire::MessageType::vote, [&](const InboundMessage& m) {
        ++served;
        node_.reply(m, wire::Response{m.id, wire::VoteResult{true, errc::ok}});
    });
    deliver(a, std::string(32, '2'), vote);
    reply = only_sent_to(a);
    EXPECT_EQ(served, 1);
    EXPECT_TRUE(result_of<wire::VoteResult>(reply).accepted);
}

TEST_F(NodeTest, ARequestAPeerRefusedWithSlowDownIsSentAgainAfterItsRetryAfter) {
    const auto b = peer(0x52);
    introduce(b);
    std::optional<std::optional<NodeId>> result;
    node_.ping(b, [&](std::optional<NodeId> id) { result = id; });
    auto first = only_sent_to(b);
    deliver(b, std::string(32, 'r'),
            wire::ErrorReply{first.id, errc::rate_limited, "slow down", 250});
    EXPECT_FALSE(result.has_value()) << "the caller does not see the refusal";
    EXPECT_TRUE(transport_.take().empty()) << "nothing sent before the retry-after";
    EXPECT_LE(node_.next_wakeup(), clock_.now() + 250ms);
    clock_.advance(250ms);
    node_.tick();
    auto again = only_sent_to(b);
    EXPECT_NE(again.id, first.id);
    EXPECT_TRUE(std::holds_alternative<wire::Ping>(again.payload));
    deliver(b, std::string(32, 's'), wire::Pong{again.id});
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, b.id);
    EXPECT_EQ(node_.stats().slowed_down, 1u);
    EXPECT_EQ(node_.stats().rpc_timeouts, 0u);

    // A peer that keeps refusing: after max_deferrals, the caller gets the refusal.
    result.reset();
    node_.ping(b, [&](std::optional<NodeId> id) { result = id; });
    for (int i = 0; i <= RpcManager::max_deferrals; ++i) {
        auto sent = only_sent_to(b);
        deliver(b, std::string(31, 'x') + std::to_string(i),
                wire::ErrorReply{sent.id, errc::rate_limited, "slow down", 10});
        clock_.advance(10ms);
        node_.tick();
    }
    ASSERT_TRUE(result.has_value());
    EXPECT_FALSE(result->has_value());
    EXPECT_EQ(node_.pending_rpcs(), 0u);
}

TEST_F(NodeTest, AnUnansweredRequestTimesOutAtItsDeadlineAndCountsAgainstThePeer) {
    const auto b = peer(0x51);
    introduce(b);
    std::optional<std::optional<NodeId>> result;
    node_.ping(b, [&](std::optional<NodeId> id) { result = id; });
    EXPECT_EQ(only_sent_to(b).payload.index(), wire::payload_index<wire::Ping>());
    EXPECT_LE(node_.next_wakeup(), clock_.now() + 5s);
    clock_.advance(4999ms);
    node_.tick();
    EXPECT_FALSE(result.has_value());
    clock_.advance(1ms);
    node_.tick();
    ASSERT_TRUE(result.has_value());
    EXPECT_FALSE(result->has_value());
    EXPECT_EQ(node_.stats().rpc_timeouts, 1u);
    EXPECT_EQ(node_.table().find(b.id)->failed_requests, 1u);
    EXPECT_EQ(node_.pending_rpcs(), 0u);
}

// Three unreachable peers closest to the target, then e, which answers. Requests sent, with the
// time they went (ms from the start).
class UnreachableClosest : public NodeTest {
protected:
    UnreachableClosest() {
        for (const auto& p : {b_, c_, d_, e_}) introduce(p);
    }
    // Runs 12 s in 250 ms steps; e answers whatever it is asked at once (with `record` to a
    // FIND_VALUE), the others never.
    void run(const std::optional<wire::Record>& record) {
        for (int ms = 0; ms <= 12'000 && !finished_at_; ms += 250) {
            for (auto& s : transport_.take()) {
                sent_.emplace_back(ms, s.to.id);
                if (s.to != e_) continue;
                wire::Payload answer =
                    std::holds_alternative<wire::FindValue>(s.message.payload)
                        ? wire::Payload{wire::Response{s.message.id,
                                                       wire::ValueResult{{record.value()}, {}}}}
                        : wire::Payload{wire::Response{s.message.id, wire::NodesResult{}}};
                deliver(e_, std::string(32, 'e'), std::move(answer));
            }
            if (done_ && !finished_at_) finished_at_ = ms;
            clock_.advance(250ms);
            node_.tick();
        }
    }
    int first_sent_to(const wire::Contact& p) const {
        for (const auto& [ms, id] : sent_) {
            if (id == p.id) return ms;
        }
        return -1;
    }
    std::size_t sent_to(const wire::Contact& p) const {
        return static_cast<std::size_t>(std::count_if(
            sent_.begin(), sent_.end(), [&](const auto& s) { return s.second == p.id; }));
    }

    const NodeId target_ = id_with_first_byte(0x50);
    const wire::Contact b_ = peer(0x51), c_ = peer(0x52), d_ = peer(0x53), e_ = peer(0x54);
    std::vector<std::pair<int, NodeId>> sent_;
    bool done_ = false;
    std::optional<int> finished_at_;
};

TEST_F(UnreachableClosest, ALookupAsksTheNextCandidateOnceARequestIsSlowNotWhenItTimesOut) {
    std::optional<LookupResult> out;
    node_.find_node(target_, [&](LookupResult r) {
        out = std::move(r);
        done_ = true;
    });
    run(std::nullopt);
    // alpha = 3: b, c and d at once; e once they have been silent for slow_after (1 s), not at
    // their 5 s timeout.
    EXPECT_EQ(first_sent_to(b_), 0);
    EXPECT_EQ(first_sent_to(e_), 1000);
    ASSERT_TRUE(out.has_value());
    ASSERT_EQ(out->closest.size(), 1u);
    EXPECT_EQ(out->closest[0].id, e_.id);
    // A node lookup still asks the silent ones twice (its closest node must not be lost to
    // one lost message), so it ends at their second timeout.
    EXPECT_EQ(sent_to(b_), 2u);
    EXPECT_EQ(finished_at_, 10'000);
}

TEST_F(UnreachableClosest, AReadWaitsOutUnreachableHoldersOnceNotTwice) {
    const auto r = record("held");
    std::optional<LookupResult> out;
    node_.find_value(r.key, [&](LookupResult res) {
        out = std::move(res);
        done_ = true;
    });
    run(r);
    ASSERT_TRUE(out.has_value());
    ASSERT_TRUE(out->found());
    EXPECT_EQ(out->records[0].body, r.body);
    EXPECT_EQ(sent_to(b_), 1u) << "a read hears every holder it can; one timeout is enough";
    EXPECT_EQ(finished_at_, 5'000);
}

TEST_F(NodeTest, APeerALookupGaveUpOnIsNotAskedByTheNextForAMinuteUnlessItIsHeardFrom) {
    const auto b = peer(0x51);
    const auto c = peer(0x52);
    introduce(b);
    introduce(c);
    const auto target = id_with_first_byte(0x50);
    // c answers each FIND_NODE at once, b never does.
    const auto lookup = [&](std::size_t expect_to_b) {
        auto d = drive_find_node(target, [&](const wire::Contact& to) { return to != b; });
        EXPECT_EQ(d.asked_of(b), expect_to_b);
        return d.result;
    };
    // The first lookup asks b twice (one lost message must not cost it its closest node).
    auto first = lookup(2);
    EXPECT_EQ(first.failed_ids, std::vector<NodeId>{b.id});
    EXPECT_EQ(first.closest.size(), 1u);
    // The next one, within the minute, counts b as failed without asking: no 10 s wait.
    clock_.advance(30s);
    auto second = lookup(0);
    EXPECT_EQ(second.failed_ids, std::vector<NodeId>{b.id});
    EXPECT_EQ(second.queried, 1u) << "only c was asked";
    EXPECT_EQ(node_.stats().unresponsive_skipped, 1u);
    // A message from b proves it alive: the next lookup asks it again.
    deliver(b, std::string(32, 'z'), wire::Ping{});
    transport_.take();
    lookup(2);
    // And a minute after a lookup gave up on it, it is asked again anyway.
    clock_.advance(59s);
    lookup(0);
    clock_.advance(1s);
    lookup(2);
}

TEST_F(NodeTest, AnswersLeaveOutAPeerALookupGaveUpOnUntilItIsHeardFromOrAMinutePasses) {
    const auto b = peer(0x51);
    const auto c = peer(0x52);
    const auto asker = peer(0x90);
    for (const auto& p : {b, c, asker}) introduce(p);
    const auto target = id_with_first_byte(0x50);
    const auto named = [&] {
        deliver(asker, std::string(32, 'f'), wire::FindNode{target});
        std::set<NodeId> ids;
        const auto nodes = only_sent_to(asker);
        for (const auto& p : result_of<wire::NodesResult>(nodes).peers) ids.insert(p.id);
        deliver(asker, std::string(32, 'v'), wire::FindValue{target, 0});
        std::set<NodeId> in_value;
        const auto value = only_sent_to(asker);
        for (const auto& p : result_of<wire::ValueResult>(value).peers) in_value.insert(p.id);
        EXPECT_EQ(ids, in_value) << "FIND_VALUE names the same peers";
        return ids;
    };
    EXPECT_EQ(named(), (std::set<NodeId>{b.id, c.id}));
    // A lookup that gives up on b (it never answers; the others answer each request at once).
    const auto give_up_on_b = [&] {
        const auto d = drive_find_node(target, [&](const wire::Contact& to) { return to != b; });
        ASSERT_EQ(d.result.failed_ids, std::vector<NodeId>{b.id});
        transport_.take();
    };
    give_up_on_b();
    // The asker's lookup would only wait b out: it is not named.
    EXPECT_EQ(named(), (std::set<NodeId>{c.id}));
    // A message from b proves it alive.
    deliver(b, std::string(32, 'z'), wire::Ping{});
    transport_.take();
    EXPECT_EQ(named(), (std::set<NodeId>{b.id, c.id}));
    give_up_on_b();
    EXPECT_EQ(named(), (std::set<NodeId>{c.id}));
    clock_.advance(59s);
    EXPECT_EQ(named(), (std::set<NodeId>{c.id}));
    // A minute on, it is named again (it may be back).
    clock_.advance(1s);
    EXPECT_EQ(named(), (std::set<NodeId>{b.id, c.id}));
}

TEST_F(NodeTest, ANodeWhoseLookupsGaveUpOnEveryPeerAsksThemAgainRatherThanFindNothing) {
    const auto b = peer(0x51);
    const auto c = peer(0x52);
    introduce(b);
    introduce(c);
    const auto target = id_with_first_byte(0x50);
    // This node's link is down: its lookup gives up on both.
    EXPECT_EQ(drive_find_node(target, [](const wire::Contact&) { return false; }).asked.size(), 4u);
    // Back up within the minute: skipping both would find nobody; it asks them.
    const auto up = drive_find_node(target, [](const wire::Contact&) { return true; });
    EXPECT_EQ(up.asked.size(), 2u);
    EXPECT_EQ(up.result.closest.size(), 2u);
    EXPECT_TRUE(up.result.failed_ids.empty());
}

TEST_F(NodeTest, AHolderLookupForAReadAsksEachStorerOnceWhereAPutsLookupAsksTwice) {
    const auto b = peer(0x51);
    const auto c = peer(0x52);
    introduce(b);
    introduce(c);
    const auto target = id_with_first_byte(0x50);
    const auto up = [&](const wire::Contact& to) { return to != b; };
    const auto read =
        drive([&](Node::LookupCallback cb) { node_.find_holders(target, std::move(cb)); }, up);
    EXPECT_EQ(read.asked_of(b), 1u) << "one timeout, not two";
    EXPECT_EQ(read.for_storers, read.asked.size());
    EXPECT_EQ(read.result.failed_ids, std::vector<NodeId>{b.id});
    ASSERT_EQ(read.result.closest.size(), 1u);
    EXPECT_EQ(read.result.closest[0].id, c.id);
    // A put's lookup of the same key asks b twice (a minute on, when b is asked again at all).
    clock_.advance(60s);
    const auto put =
        drive([&](Node::LookupCallback cb) { node_.find_node(target, std::move(cb), true); }, up);
    EXPECT_EQ(put.asked_of(b), 2u);
}

// Peers can name any number of ids that never answer: what this node remembers of them is capped.
TEST_F(NodeTest, ThePeersLookupsGaveUpOnAreRememberedUpToACapHoweverManyAPeerNames) {
    const auto c = peer(0x52);
    introduce(c);
    // Reads of many keys at once; c answers each with four ids next to its key that never answer.
    std::uint32_t minted = 0;
    const auto burst = [&](std::size_t reads) {
        std::size_t done = 0;
        for (std::size_t i = 0; i < reads; ++i) {
            NodeId key;
            for (std::size_t b = 0; b < 4; ++b)
                key[b] = static_cast<std::uint8_t>(minted >> (8 * b));
            key[4] = static_cast<std::uint8_t>(i);
            key[5] = 0x77;
            node_.find_value(key, [&](LookupResult) { ++done; });
            for (auto& s : transport_.take()) {
                if (s.to != c) continue;
                wire::ValueResult answer;
                for (int n = 0; n < 4; ++n, ++minted) {
                    auto id = key;
                    id[31] = static_cast<std::uint8_t>(n + 1);
                    id[30] = static_cast<std::uint8_t>(minted);
                    answer.peers.push_back({id, "ws://10.1." + std::to_string(minted % 250) + "." +
                                                    std::to_string(n + 1) + ":9090"});
                }
                deliver(c, std::string(32, 'a'), wire::Response{s.message.id, std::move(answer)});
            }
        }
        for (int step = 0; step < 10 && done < reads; ++step) {
            clock_.advance(1s);
            node_.tick();
            transport_.take();
        }
        EXPECT_EQ(done, reads);
    };
    burst(512);  // 2,048 given up on
    EXPECT_EQ(node_.unresponsive_peers(), 2048u);
    burst(1024);  // 4,096 more within the minute: the cap holds
    EXPECT_EQ(node_.unresponsive_peers(), Node::max_unresponsive);
    // A minute on, the expired ones make room for new ones.
    clock_.advance(60s);
    burst(16);
    EXPECT_EQ(node_.unresponsive_peers(), 64u);
}

TEST_F(NodeTest,
       APeerDroppedAfterFailedRequestsIsAskedAgainLessAndLessOftenAndReturnsWhenItAnswers) {
    // A partition: requests to b go unanswered until the table drops it.
    const auto b = peer(0x51);
    introduce(b);
    const auto pings_to_b = [&] {
        std::vector<std::string> ids;
        for (const auto& s : transport_.take()) {
            if (s.to == b && std::holds_alternative<wire::Ping>(s.message.payload)) {
                ids.push_back(s.message.id);
            }
        }
        return ids;
    };
    for (unsigned i = 0; i < config().table.max_failures; ++i) {
        node_.ping(b, nullptr);
        clock_.advance(5s);
        node_.tick();
    }
    ASSERT_FALSE(node_.table().contains(b.id));
    transport_.take();
    // The PINGs of the next `seconds`, each with when it went (seconds from now).
    std::vector<std::pair<int, std::string>> probes;
    int elapsed = 0;
    // Up to `seconds`, or until there are `enough` probes.
    const auto run = [&](int seconds, std::size_t enough = SIZE_MAX) {
        for (int t = 0; t < seconds && probes.size() < enough; ++t) {
            clock_.advance(1s);
            node_.tick();
            ++elapsed;
            for (auto& id : pings_to_b()) probes.emplace_back(elapsed, id);
        }
    };
    // The first within 15 to 30 s (spread at random, so that a partition's losses do not all
    // probe at once); unanswered (the partition holds), the next 30 s after it timed out, then
    // 60 s after that one did.
    run(200, 3);
    ASSERT_EQ(probes.size(), 3u);
    EXPECT_GE(probes[0].first, 15);
    EXPECT_LE(probes[0].first, 31);
    EXPECT_EQ(probes[1].first - probes[0].first, 5 + 30);
    EXPECT_EQ(probes[2].first - probes[1].first, 5 + 60);
    // Healed: b answers, and it is back in the table without proving its address again.
    deliver(b, std::string(32, 'h'), wire::Pong{probes[2].second});
    EXPECT_TRUE(node_.table().contains(b.id));
    probes.clear();
    run(600);
    EXPECT_TRUE(probes.empty()) << "no more probes once it is back";
}

TEST_F(NodeTest, OnlyThePeerAskedMayAnswerARequest) {
    const auto b = peer(0x61), c = peer(0x62);
    std::optional<std::optional<NodeId>> result;
    node_.ping(b, [&](std::optional<NodeId> id) { result = id; });
    const auto request_id = only_sent_to(b).id;
    // C knows the id (say it saw the frame) and answers in B's place: ignored, B is still awaited.
    deliver(c, std::string(32, 'c'), wire::Pong{request_id});
    EXPECT_FALSE(result.has_value());
    EXPECT_EQ(node_.stats().unexpected, 1u);
    EXPECT_EQ(node_.pending_rpcs(), 1u);
    deliver(b, std::string(32, 'b'), wire::Pong{request_id});
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, b.id);
    // A second answer to the same request finds nobody waiting.
    deliver(b, std::string(32, 'd'), wire::Pong{request_id});
    EXPECT_EQ(node_.stats().unexpected, 2u);
}

TEST_F(NodeTest, AnAnswerOfTheWrongShapeFailsTheRequest) {
    const auto b = peer(0x71);
    std::optional<LookupResult> found;
    node_.fetch_page(b, id_with_first_byte(0x72), 0, [&](LookupResult r) { found = r; });
    const auto request_id = only_sent_to(b).id;
    deliver(b, std::string(32, 'x'), wire::Response{request_id, wire::StoreResult{true}});
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->failed, 1u);
    EXPECT_EQ(node_.stats().unexpected, 1u);
    // An ERROR answers any request: it fails it without counting as unexpected.
    std::optional<LookupResult> second;
    node_.fetch_page(b, id_with_first_byte(0x72), 0, [&](LookupResult r) { second = r; });
    const auto second_id = only_sent_to(b).id;
    deliver(b, std::string(32, 'y'), wire::ErrorReply{second_id, errc::not_responsible, "no"});
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->failed, 1u);
    EXPECT_EQ(node_.stats().unexpected, 1u);
}

TEST_F(NodeTest, AKeyWithThousandsOfRecordsIsHandedOverAFewHundredKiBATick) {
    // One key, 300 authors' records of ~3 KiB (a busy domain index): ~900 KiB to hand over.
    const auto now = clock_.unix_seconds();
    const std::string pad(3000, 'x');
    for (int i = 0; i < 300; ++i) {
        const auto author = crypto::KeyPair::generate();
        ASSERT_TRUE(
            store_.put(wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                                          R"({"domain":"node","id":"big","pad":")" + pad + R"("})"},
                                         author)
                           .value()));
    }
    const auto newcomer = peer(0x05);
    introduce(newcomer);
    ASSERT_TRUE(node_.table().contains(newcomer.id));
    std::size_t stores = 0, ticks = 0;
    while (ticks < 100 && stores < 300) {
        clock_.advance(100ms);
        node_.tick();
        ++ticks;
        std::size_t bytes = 0;
        for (const auto& s : transport_.take()) {
            const auto* store = std::get_if<wire::Store>(&s.message.payload);
            if (store == nullptr) continue;
            bytes += store->record.body.size();
            ++stores;
        }
        EXPECT_LE(bytes, config().maintenance_bytes_per_tick + 4096) << "tick " << ticks;
    }
    EXPECT_EQ(stores, 300u) << "every record, none twice";
    EXPECT_GE(ticks, 900u * 1024 / config().maintenance_bytes_per_tick);
}

TEST_F(NodeTest, MaintenanceSendsItsBudgetPerStepHoweverOftenTheHostTicks) {
    // The host ticks at every RPC deadline (the simulator at every event): a sweep's budget is
    // a rate, not an allowance per call.
    const auto now = clock_.unix_seconds();
    for (int i = 0; i < 300; ++i) {
        ASSERT_TRUE(store_.put(
            wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                               R"({"domain":"node","id":"k)" + std::to_string(i) + R"("})"},
                              crypto::KeyPair::generate())
                .value()));
    }
    introduce(peer(0x05));
    std::size_t stores = 0;
    for (int call = 0; call < 200; ++call) {
        clock_.advance(1ms);
        node_.tick();
        for (const auto& s : transport_.take()) {
            stores += std::holds_alternative<wire::Store>(s.message.payload) ? 1 : 0;
        }
    }
    // 200 ticks in 200 ms: two steps' worth at most.
    EXPECT_LE(stores, 2 * config().maintenance_frames_per_tick);
    EXPECT_GT(stores, 0u);
}

TEST_F(NodeTest, APeerBackWithinTheHourIsNotHandedEverythingAgain) {
    ASSERT_TRUE(store_.put(record("held", 24 * 3600)));
    const auto newcomer = peer(0x05);
    introduce(newcomer);
    auto stores_in = [&](int ticks) {
        std::size_t n = 0;
        for (int t = 0; t < ticks; ++t) {
            clock_.advance(100ms);
            node_.tick();
            for (const auto& s : transport_.take()) {
                n += std::holds_alternative<wire::Store>(s.message.payload) ? 1 : 0;
            }
        }
        return n;
    };
    EXPECT_EQ(stores_in(20), 1u);
    // It drops out (a partition: its requests failed) and comes back: it has the record.
    ASSERT_TRUE(node_.table().remove(newcomer.id));
    introduce(newcomer);
    ASSERT_TRUE(node_.table().contains(newcomer.id));
    EXPECT_EQ(stores_in(20), 0u);
    // Much later it is a newcomer again.
    ASSERT_TRUE(node_.table().remove(newcomer.id));
    clock_.advance(config().replicate_interval);
    transport_.take();
    introduce(newcomer);
    ASSERT_TRUE(node_.table().contains(newcomer.id));
    EXPECT_GE(stores_in(20), 1u);  // handed over (and, an hour on, replicated too)
}

TEST_F(NodeTest, AtMost64LostPeersAreRememberedAndAtMost4ProbedATick) {
    // 70 peers, each in the table and then dropped after its requests failed (silent ids an
    // attacker minted, or a partition's far side).
    for (std::uint8_t i = 0; i < 70; ++i) {
        const auto p = peer(0x10, i);
        introduce(p);
        for (unsigned f = 0; f < config().table.max_failures; ++f) node_.ping(p, nullptr);
        clock_.advance(5s);
        node_.tick();
        ASSERT_FALSE(node_.table().contains(p.id));
    }
    transport_.take();
    // Ten minutes on, beyond the longest pause between two probes: each remembered peer was
    // probed, and no more of them than the cap; no tick sent more than its share.
    std::set<NodeId> probed;
    std::size_t most_in_a_tick = 0;
    for (int t = 0; t < 600; ++t) {
        clock_.advance(1s);
        node_.tick();
        std::size_t pings = 0;
        for (const auto& s : transport_.take()) {
            if (!std::holds_alternative<wire::Ping>(s.message.payload)) continue;
            ++pings;
            probed.insert(s.to.id);
        }
        most_in_a_tick = std::max(most_in_a_tick, pings);
    }
    EXPECT_EQ(probed.size(), 64u);
    EXPECT_LE(most_in_a_tick, 4u);
}

TEST_F(NodeTest, APeerBackFromAPartitionIsHandedWhatWasWrittenWhileItWasAway) {
    ASSERT_TRUE(store_.put(record("before", 24 * 3600)));
    const auto returning = peer(0x05);
    introduce(returning);
    // The bodies of the records STOREd to it over `ticks` ticks.
    const auto stored_in = [&](int ticks) {
        std::vector<std::string> bodies;
        for (int t = 0; t < ticks; ++t) {
            clock_.advance(100ms);
            node_.tick();
            for (const auto& s : transport_.take()) {
                if (const auto* st = std::get_if<wire::Store>(&s.message.payload)) {
                    bodies.push_back(st->record.body);
                }
            }
        }
        return bodies;
    };
    EXPECT_EQ(stored_in(20).size(), 1u);
    // Cut off for a minute, during which the node takes a record its publisher could not send it.
    ASSERT_TRUE(node_.table().remove(returning.id));
    clock_.advance(60s);
    ASSERT_TRUE(store_.put(record("during", 24 * 3600)));
    introduce(returning);
    const auto bodies = stored_in(20);
    ASSERT_EQ(bodies.size(), 1u) << "only what it missed";
    EXPECT_NE(bodies[0].find(R"("id":"during")"), std::string::npos) << bodies[0];
}

TEST_F(NodeTest, RecordsPutAfterANewcomerJoinedAreNotHandedOverToIt) {
    ASSERT_TRUE(store_.put(record("before")));
    const auto newcomer = peer(0x05);
    introduce(newcomer);
    ASSERT_TRUE(node_.table().contains(newcomer.id));
    // A busy publisher goes on while the hand-over walks the store: what it puts from now on it
    // stores on the newcomer itself.
    clock_.advance(10s);
    ASSERT_TRUE(store_.put(record("after")));
    std::vector<std::string> handed;
    for (int tick = 0; tick < 20; ++tick) {
        clock_.advance(100ms);
        node_.tick();
        for (const auto& s : transport_.take()) {
            if (const auto* st = std::get_if<wire::Store>(&s.message.payload)) {
                handed.push_back(st->record.body);
            }
        }
    }
    ASSERT_EQ(handed.size(), 1u);
    EXPECT_NE(handed[0].find("before"), std::string::npos);
}

TEST_F(NodeTest, ANewcomerGetsItsRecordsFromTicksNotFromTheMessageThatIntroducedIt) {
    // 40 keys held; a newcomer next to all of them (an empty table: it is among the k closest).
    std::vector<wire::Record> held;
    for (int i = 0; i < 40; ++i) {
        held.push_back(record("h" + std::to_string(i)));
        ASSERT_TRUE(store_.put(held.back()));
    }
    const auto newcomer = peer(0x05);
    // Its PING is answered and its address dialed back; its answer to that puts it in the table.
    // No STORE goes out from either message: no store walk inside message dispatch.
    deliver(newcomer, std::string(32, 'p'), wire::Ping{});
    auto first = transport_.take();
    ASSERT_EQ(first.size(), 2u);
    for (const auto& s : first)
        EXPECT_FALSE(std::holds_alternative<wire::Store>(s.message.payload));
    deliver(newcomer, std::string(32, 'q'), wire::Pong{first[1].message.id});
    EXPECT_TRUE(node_.table().contains(newcomer.id));
    EXPECT_TRUE(transport_.take().empty());
    std::size_t stores = 0, ticks = 0;
    while (ticks < 20) {
        clock_.advance(100ms);
        node_.tick();
        ++ticks;
        const auto sent = transport_.take();
        // At most keys_per_tick keys (one record each here) per tick.
        EXPECT_LE(sent.size(), 8u);
        for (const auto& s : sent) {
            EXPECT_EQ(s.to, newcomer);
            EXPECT_TRUE(std::holds_alternative<wire::Store>(s.message.payload));
        }
        stores += sent.size();
        if (stores == held.size()) break;
    }
    EXPECT_EQ(stores, held.size());
    EXPECT_GE(ticks, 5u);
}

TEST_F(NodeTest, AMaintenanceTickWalksAtMostItsBudgetOfKeys) {
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(store_.put(record("r" + std::to_string(i), 86400)));
    const auto other = peer(0x81);
    introduce(other);
    // `other` answers every STORE (unanswered ones would count as failures and evict it).
    const auto answer_all = [&] {
        std::size_t stores = 0;
        for (const auto& s : transport_.take()) {
            if (!std::holds_alternative<wire::Store>(s.message.payload)) continue;
            ++stores;
            deliver(other, std::string(32, 'r'),
                    wire::Response{s.message.id, wire::StoreResult{true}});
        }
        return stores;
    };
    // Let the hand-over to `other` finish, then start a replication round.
    for (int i = 0; i < 10; ++i) {
        clock_.advance(100ms);
        node_.tick();
        answer_all();
    }
    clock_.advance(std::chrono::hours(1));
    std::size_t total = 0;
    for (int i = 0; i < 10; ++i) {
        node_.tick();
        const auto n = answer_all();
        EXPECT_LE(n, 8u) << "one record per key here, and at most keys_per_tick keys a tick";
        total += n;
        clock_.advance(100ms);
    }
    EXPECT_EQ(total, 30u);  // every key replicated to the one peer, a budget at a time
}

}  // namespace
}  // namespace nocturne::dht
