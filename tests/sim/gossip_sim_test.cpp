// Gossip in the simulator, as nocturne-sim --gossip measures it at 10,000 nodes but small enough
// for every CI run: the unchanged GossipService on every node (sim::GossipPeer), a fifth of the
// nodes dead and still in routing tables, real revocations validated at every hop.

#include <nocturne/sim/gossip_peer.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/trust/revocation.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "trust/trust_test_util.hpp"

namespace nocturne::sim {
namespace {

using namespace std::chrono_literals;

TEST(GossipSim, RevocationsReachEveryLiveNodeWithinASecondAndAReturningNodeCatchesUp) {
    constexpr std::size_t nodes = 250;
    SimConfig config;
    config.seed = 15;
    config.latency_min = 40ms;  // 100 ms round trips, give or take
    config.latency_max = 60ms;
    Simulation sim(config);
    std::mt19937_64 rng(15);
    trust::test::TestWeb web;
    std::vector<GossipPeer*> peers;
    auto add = [&] {
        NodeId id;
        for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
        auto node_config = config.node;
        node_config.seed = rng() | 1;
        gossip::GossipOptions options;
        options.seed = rng() | 1;
        return sim.add_participant(
            id, [&](dht::Transport& t, const NodeId& pid, const std::string& address) {
                auto p = std::make_unique<GossipPeer>(t, pid, address, sim.clock(), web.genesis,
                                                      node_config, options);
                peers.push_back(p.get());
                return p;
            });
    };
    add();
    while (peers.size() < nodes) {
        std::size_t done = 0, started = 0;
        const auto joined = peers.size();
        for (int w = 0; w < 32 && peers.size() < nodes; ++w, ++started) {
            const auto seed = std::uniform_int_distribution<std::size_t>(0, joined - 1)(rng);
            peers[add()]->node().bootstrap({sim.contact(seed)}, [&](std::size_t) { ++done; });
        }
        sim.run_for(1h, [&] { return done == started; });
    }
    sim.run_for(1min);
    const std::size_t away = 7;
    sim.kill(away);
    for (std::size_t i = 100; i < 150; ++i) sim.kill(i);  // 50 of 250 gone without a word

    std::vector<wire::Record> revocations;
    for (std::uint8_t r = 0; r < 3; ++r) {
        const auto op_id = trust::operator_id_of(trust::test::key(100 + r).public_key());
        revocations.push_back(
            web.revocation_record(op_id, web.genesis_signers(3), sim.clock().unix_seconds()));
        const auto t0 = sim.clock().now();
        ASSERT_FALSE(
            peers[11 * r + 1]->trust().learn(revocations.back(), sim.clock().unix_seconds()));
        sim.run_for(1s);
        std::size_t live = 0, reached = 0;
        for (std::size_t i = 0; i < nodes; ++i) {
            if (!sim.alive(i)) continue;
            ++live;
            const auto& learned = peers[i]->learned();
            const auto it = learned.find(revocations.back().sig);
            if (it != learned.end() && it->second - t0 <= 1s) ++reached;
            const auto& s = peers[i]->gossip().stats().of(gossip::ItemClass::revocation);
            EXPECT_LE(s.forwarded, 12u * (r + 1u)) << "node " << i;
        }
        EXPECT_EQ(reached, live) << "revocation " << int(r);
    }

    // Back half an hour later: it notices the gap at its first tick and reconciles with 3 peers:
    // everything it missed within 3 round trips.
    sim.run_for(30min);
    sim.revive(away);
    const auto back = sim.clock().now();
    sim.run_for(1min, [&] {
        return std::all_of(revocations.begin(), revocations.end(),
                           [&](const auto& r) { return peers[away]->learned(r); });
    });
    for (const auto& r : revocations) EXPECT_TRUE(peers[away]->learned(r));
    EXPECT_LE(sim.clock().now() - back, 360ms);
    EXPECT_EQ(peers[away]->gossip().stats().of(gossip::ItemClass::revocation).received, 3u);
}

// Three gossip peers on the simulator's clock, that know whom each test links; anti-entropy runs
// only when a test says so (an hour between syncs), so that what arrives was pushed.
class GossipPair : public ::testing::Test {
protected:
    GossipPair() : sim_(config()) {
        for (std::uint8_t i = 0; i < 3; ++i) {
            NodeId id;
            id.bytes()[0] = static_cast<std::uint8_t>(0x10 * (i + 1));
            sim_.add_participant(
                id, [&](dht::Transport& t, const NodeId& pid, const std::string& address) {
                    gossip::GossipOptions options;
                    options.seed = 7 + i;
                    options.sync_period = 1h;
                    auto p = std::make_unique<GossipPeer>(t, pid, address, sim_.clock(),
                                                          web_.genesis, dht::NodeConfig{}, options);
                    peers_.push_back(p.get());
                    return p;
                });
        }
    }
    // i learns of j.
    void knows(std::size_t i, std::size_t j) {
        peers_[i]->node().table().add(
            {sim_.contact(j).id, sim_.contact(j).address, "", sim_.clock().now()});
    }
    void link(std::size_t i, std::size_t j) {
        knows(i, j);
        knows(j, i);
    }
    static SimConfig config() {
        SimConfig c;
        c.seed = 3;
        c.latency_min = 10ms;
        c.latency_max = 20ms;
        return c;
    }
    wire::Record certificate(std::uint8_t n) {
        const auto op = trust::test::key(n);
        return web_.cert_record(
            web_.certificate(op, web_.genesis_signers(3), sim_.clock().unix_seconds()), op);
    }
    std::uint64_t received(std::size_t i) {
        return peers_[i]->gossip().stats().of(gossip::ItemClass::certificate).received;
    }
    void learn_certificates(std::size_t i, std::uint32_t n) {
        for (std::uint32_t k = 0; k < n; ++k) {
            ASSERT_FALSE(peers_[i]->trust().learn(certificate(static_cast<std::uint8_t>(100 + k)),
                                                  sim_.clock().unix_seconds()));
        }
    }

    trust::test::TestWeb web_;
    Simulation sim_;
    std::vector<GossipPeer*> peers_;
};

TEST_F(GossipPair, PushesThatGotNoAnswerAreSentAgainAfterAPause) {
    link(0, 1);
    // B is out of reach while A learns 100 certificates: A's two batches (64 + 36) get no answer.
    sim_.set_group(1, 1);
    learn_certificates(0, 100);
    sim_.run_for(3s);
    sim_.heal();
    EXPECT_EQ(received(1), 0u);
    // They time out (5 s) and go again a second later, in full.
    sim_.run_for(10s, [&] { return received(1) == 100; });
    EXPECT_EQ(received(1), 100u);
    sim_.run_for(1s);  // B's acknowledgements reach A
    const auto& a = peers_[0]->gossip().stats();
    EXPECT_EQ(a.failed_sends, 2u);
    EXPECT_EQ(a.of(gossip::ItemClass::certificate).shed, 0u);
    EXPECT_EQ(a.of(gossip::ItemClass::certificate).forwarded, 100u);
    EXPECT_EQ(peers_[1]->gossip().stats().synced_items, 0u);
}

TEST_F(GossipPair, APeerThatNeverAnswersHasItsQueueShedRevocationsIncluded) {
    link(0, 1);
    sim_.kill(1);
    ASSERT_FALSE(peers_[0]->trust().learn(certificate(100), sim_.clock().unix_seconds()));
    const auto op_id = trust::operator_id_of(trust::test::key(250).public_key());
    ASSERT_FALSE(peers_[0]->trust().learn(
        web_.revocation_record(op_id, web_.genesis_signers(3), sim_.clock().unix_seconds()),
        sim_.clock().unix_seconds()));
    // Each item is sent three times at most (and five unanswered sends in a row shed the whole
    // queue): then nothing waits for B, nor is retried, forever.
    sim_.run_for(2min);
    const auto& a = peers_[0]->gossip().stats();
    EXPECT_GE(a.failed_sends, 3u);
    EXPECT_LE(a.failed_sends, 6u);
    const auto failed = a.failed_sends;
    sim_.run_for(10min);
    EXPECT_EQ(a.failed_sends, failed);
    EXPECT_EQ(a.of(gossip::ItemClass::certificate).shed, 1u);
    EXPECT_EQ(a.of(gossip::ItemClass::revocation).shed, 1u);
}

TEST_F(GossipPair, AFreshItemLearnedByReconciliationIsSpreadOn) {
    // A knows nobody to push to; B knows A and C. B reconciles with A (as it does when it joins)
    // and gets A's new certificates that way: it pushes them on to C, which does not wait for its
    // own reconciliation.
    knows(1, 0);
    link(1, 2);
    learn_certificates(0, 10);
    sim_.run_for(1s);
    EXPECT_EQ(received(1), 0u);
    peers_[1]->gossip().catch_up();
    sim_.run_for(5s, [&] { return received(2) == 10; });
    EXPECT_EQ(peers_[1]->gossip().stats().synced_items, 10u);
    EXPECT_EQ(received(2), 10u);
    EXPECT_EQ(peers_[2]->gossip().stats().synced_items, 0u);
}

}  // namespace
}  // namespace nocturne::sim
