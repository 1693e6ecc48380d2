// The DHT core through the simulated network: unmodified dht::Node instances, virtual time.

#include <nocturne/crypto/keys.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/wire/record.hpp>

#include <gtest/gtest.h>

namespace nocturne::sim {
namespace {

using namespace std::chrono_literals;

SimConfig small_config(std::uint64_t seed = 7) {
    SimConfig c;
    c.seed = seed;
    c.node.rpc_timeout = 2s;
    return c;
}

class DhtSim : public ::testing::Test {
protected:
    crypto::KeyPair author_ = crypto::KeyPair::from_seed(crypto::Seed{3});

    wire::Record record(Simulation& sim, const std::string& id, std::int64_t ttl = 3600,
                        std::uint64_t seq = 1) {
        const auto now = sim.clock().unix_seconds();
        auto r = wire::sign_record({wire::RecordKind::knowledge, seq, now, now + ttl,
                                    R"({"domain":"sim","id":")" + id + R"("})"},
                                   author_);
        EXPECT_TRUE(r.has_value());
        return *r;
    }

    // Builds a mesh of n nodes, each joining through a random earlier node.
    static void grow(Simulation& sim, std::size_t n) {
        if (sim.size() == 0) sim.add_node();
        while (sim.size() < n) {
            const auto seed =
                std::uniform_int_distribution<std::size_t>(0, sim.size() - 1)(sim.rng());
            sim.join(seed);
        }
    }

    static dht::PutResult put(Simulation& sim, std::size_t via, const wire::Record& r) {
        std::optional<dht::PutResult> out;
        sim.node(via).put(r, [&](dht::PutResult res) { out = res; });
        sim.run_for(60s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value());
        return out.value_or(dht::PutResult{});
    }

    static dht::LookupResult get(Simulation& sim, std::size_t via, const NodeId& key) {
        std::optional<dht::LookupResult> out;
        sim.node(via).find_value(key, [&](dht::LookupResult res) { out = std::move(res); });
        sim.run_for(60s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value());
        return out.value_or(dht::LookupResult{});
    }
};

TEST_F(DhtSim, TwoNodesDiscoverEachOtherViaPing) {
    Simulation sim(small_config());
    const auto a = sim.add_node();
    const auto b = sim.add_node();
    std::optional<NodeId> answered;
    // B is known only by address, as a bootstrap seed is.
    sim.node(a).ping({NodeId{}, sim.contact(b).address},
                     [&](std::optional<NodeId> id) { answered = id; });
    sim.run_for(10s, [&] { return answered.has_value(); });
    ASSERT_TRUE(answered.has_value());
    EXPECT_EQ(*answered, sim.node(b).id());
    // A reached B at its address: proven. B heard from A: it dials A back first.
    EXPECT_TRUE(sim.node(a).table().contains(sim.node(b).id()));
    EXPECT_FALSE(sim.node(b).table().contains(sim.node(a).id()));
    sim.run_for(1s);
    EXPECT_TRUE(sim.node(b).table().contains(sim.node(a).id()));
    EXPECT_EQ(sim.node(b).stats().contacts_verified, 1u);
}

TEST_F(DhtSim, PingOfDeadPeerTimesOut) {
    Simulation sim(small_config());
    const auto a = sim.add_node();
    const auto b = sim.add_node();
    sim.kill(b);
    bool called = false;
    std::optional<NodeId> answered;
    sim.node(a).ping(sim.contact(b), [&](std::optional<NodeId> id) {
        called = true;
        answered = id;
    });
    sim.run_for(10s, [&] { return called; });
    EXPECT_TRUE(called);
    EXPECT_FALSE(answered.has_value());
    EXPECT_EQ(sim.node(a).stats().rpc_timeouts, 1u);
    EXPECT_EQ(sim.node(a).pending_rpcs(), 0u);
}

TEST_F(DhtSim, AKnowsBBKnowsCSoAFindsC) {
    Simulation sim(small_config());
    const auto a = sim.add_node(), b = sim.add_node(), c = sim.add_node();
    bool done = false;
    sim.node(b).ping(sim.contact(c), [&](auto) { done = true; });
    sim.run_for(10s, [&] { return done; });
    done = false;
    sim.node(a).ping(sim.contact(b), [&](auto) { done = true; });
    sim.run_for(10s, [&] { return done; });
    ASSERT_FALSE(sim.node(a).table().contains(sim.node(c).id()));

    std::optional<dht::LookupResult> found;
    sim.node(a).find_node(sim.node(c).id(), [&](dht::LookupResult r) { found = r; });
    sim.run_for(30s, [&] { return found.has_value(); });
    ASSERT_TRUE(found.has_value());
    ASSERT_FALSE(found->closest.empty());
    EXPECT_EQ(found->closest[0].id, sim.node(c).id());
    EXPECT_EQ(found->hops, 2u);
}

TEST_F(DhtSim, ValueStoredViaOneNodeIsFoundViaAnotherMultiHop) {
    Simulation sim(small_config());
    grow(sim, 60);
    const auto r = record(sim, "e1");
    const auto res = put(sim, 3, r);
    EXPECT_GE(res.stored, 20u);  // k = 20 responsible nodes
    EXPECT_EQ(res.refused, 0u);
    // Every node finds it.
    std::size_t found = 0;
    for (std::size_t i = 0; i < sim.size(); ++i) {
        const auto got = get(sim, i, r.key);
        if (got.found() && got.records[0].body == r.body) ++found;
    }
    EXPECT_EQ(found, sim.size());
}

TEST_F(DhtSim, RecordsExpireAfterTheirTtl) {
    Simulation sim(small_config());
    grow(sim, 30);
    const auto r = record(sim, "short", /*ttl=*/120);
    ASSERT_TRUE(put(sim, 0, r).ok());
    EXPECT_TRUE(get(sim, 5, r.key).found());
    sim.run_for(200s);  // past expiry, and past at least one prune
    EXPECT_FALSE(get(sim, 5, r.key).found());
    std::size_t held = 0;
    for (std::size_t i = 0; i < sim.size(); ++i) held += sim.store(i).size().value();
    EXPECT_EQ(held, 0u);
    // An expired record is refused outright.
    auto res = put(sim, 0, r);
    EXPECT_FALSE(res.ok());
    EXPECT_EQ(res.first_refusal, errc::record_expired);
}

TEST_F(DhtSim, NodeThatIsNotResponsibleRefusesStore) {
    auto config = small_config();
    config.node.k = 3;
    Simulation sim(config);
    grow(sim, 40);
    const auto r = record(sim, "far");
    // The live node farthest from the key.
    std::size_t far = 0;
    for (std::size_t i = 1; i < sim.size(); ++i) {
        if (distance_less(r.key, sim.node(far).id(), sim.node(i).id())) far = i;
    }
    // Make sure `far` knows nodes closer to the key than itself.
    std::optional<dht::LookupResult> warm;
    sim.node(far).find_node(r.key, [&](dht::LookupResult x) { warm = x; });
    sim.run_for(30s, [&] { return warm.has_value(); });

    // Another node sends it a STORE directly.
    const auto sender = far == 0 ? 1 : 0;
    std::optional<dht::PutResult> out;
    // store through a one-node "lookup result": exercise the responder's check.
    sim.node(sender).ping(sim.contact(far), [](auto) {});
    sim.run_for(5s);
    const auto before = sim.node(far).stats().stores_refused;
    dht::Message m{std::string(32, 'f'), wire::Store{r}};
    sim.node(far).on_message({sim.contact(sender), m.id, m.payload});
    EXPECT_EQ(sim.node(far).stats().stores_refused, before + 1);
    EXPECT_EQ(sim.store(far).size().value(), 0u);
}

TEST_F(DhtSim, SeqNeverGoesBackwardsAcrossTheMesh) {
    Simulation sim(small_config());
    grow(sim, 30);
    ASSERT_TRUE(put(sim, 1, record(sim, "v", 3600, 2)).ok());
    const auto older = put(sim, 2, record(sim, "v", 3600, 1));
    // Every holder of the newer version refuses the older one (a node that held nothing yet, the
    // putter itself say, may take it).
    EXPECT_GE(older.refused, sim.node(2).config().k - 1);
    EXPECT_LE(older.stored, 1u);
    EXPECT_EQ(older.first_refusal, errc::stale_seq);
    // And every reader gets the newer one: a read keeps the highest seq among the holders.
    for (std::size_t via : {0, 2, 7, 29}) {
        const auto got = get(sim, via, content_key("sim", "v"));
        ASSERT_TRUE(got.found());
        EXPECT_EQ(got.records[0].seq, 2u) << via;
    }
}

TEST_F(DhtSim, DeadEvictionCandidateIsReplacedByNewcomer) {
    auto config = small_config();
    config.node.k = 2;
    Simulation sim(config);
    const auto a = sim.add_node();
    // Find three nodes that fall in the same bucket of a.
    std::vector<std::size_t> same;
    std::map<std::size_t, std::vector<std::size_t>> by_bucket;
    while (same.empty()) {
        const auto n = sim.add_node();
        auto& v = by_bucket[bucket_index(sim.node(a).id(), sim.node(n).id())];
        v.push_back(n);
        if (v.size() == 3) same = v;
    }
    // A ping, and time for the pinged node to dial its sender back (it learns it only then).
    auto ping = [&](std::size_t from, std::size_t to) {
        sim.node(from).ping(sim.contact(to), [&](auto) {});
        sim.run_for(10s);
    };
    ping(same[0], a);
    ping(same[1], a);
    ASSERT_EQ(sim.node(a).table().size(), 2u);
    sim.kill(same[0]);  // the least recently seen one dies

    // Heard from moments ago, same[0] counts as good: the newcomer waits in the replacement
    // cache and nobody is pinged.
    ping(same[2], a);
    EXPECT_EQ(sim.node(a).stats().rpc_timeouts, 0u);
    EXPECT_FALSE(sim.node(a).table().contains(sim.node(same[2]).id()));
    EXPECT_EQ(sim.node(a).table().replacement_count(), 1u);

    // After 15 silent minutes it is questionable: the next message from the newcomer makes a
    // ping it, the ping times out, and the newcomer takes its place.
    sim.kill(same[1]);  // keep same[1] from refreshing a's table meanwhile
    sim.run_for(16min);
    sim.revive(same[1]);
    const auto timeouts_before = sim.node(a).stats().rpc_timeouts;
    ping(same[2], a);
    sim.run_for(10s);
    EXPECT_GT(sim.node(a).stats().rpc_timeouts, timeouts_before);
    EXPECT_FALSE(sim.node(a).table().contains(sim.node(same[0]).id()));
    EXPECT_TRUE(sim.node(a).table().contains(sim.node(same[2]).id()));
}

TEST_F(DhtSim, ValuesSurviveQuarterOfNodesKilled) {
    Simulation sim(small_config(11));
    grow(sim, 150);

    std::vector<wire::Record> records;
    for (int i = 0; i < 30; ++i) {
        records.push_back(record(sim, "k" + std::to_string(i)));
        ASSERT_TRUE(put(sim, static_cast<std::size_t>(i) % sim.size(), records.back()).ok());
    }
    std::vector<std::size_t> order(sim.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), sim.rng());
    for (std::size_t i = 0; i < sim.size() / 4; ++i) sim.kill(order[i]);
    std::size_t found = 0, asked = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
        std::size_t via = order[sim.size() / 4 + i];  // a live node
        ++asked;
        if (get(sim, via, records[i].key).found()) ++found;
    }
    EXPECT_EQ(found, asked);
}

TEST_F(DhtSim, NewCloserNodeReceivesRecordsItIsResponsibleFor) {
    auto config = small_config();
    config.node.k = 3;
    Simulation sim(config);
    grow(sim, 20);
    const auto r = record(sim, "handover");
    ASSERT_TRUE(put(sim, 0, r).ok());
    // Join nodes until one lands among the 3 closest to the key.
    for (int tries = 0; tries < 200; ++tries) {
        const auto n = sim.join(0);
        sim.run_for(30s);
        std::vector<std::size_t> idx(sim.size());
        std::iota(idx.begin(), idx.end(), 0);
        std::partial_sort(idx.begin(), idx.begin() + 3, idx.end(), [&](auto x, auto y) {
            return distance_less(r.key, sim.node(x).id(), sim.node(y).id());
        });
        if (std::find(idx.begin(), idx.begin() + 3, n) != idx.begin() + 3) {
            EXPECT_EQ(sim.store(n).get(r.key, sim.clock().unix_seconds())->size(), 1u);
            return;
        }
    }
    FAIL() << "no joining node became responsible";
}

TEST_F(DhtSim, PublisherRepublishesLostRecords) {
    auto config = small_config();
    config.node.republish_interval = 10min;
    Simulation sim(config);
    grow(sim, 30);
    const auto r = record(sim, "again", 7200);
    ASSERT_TRUE(put(sim, 4, r).ok());
    for (std::size_t i = 0; i < sim.size(); ++i) (void)sim.store(i).erase(r.key);
    EXPECT_FALSE(get(sim, 9, r.key).found());
    sim.run_for(11min);
    EXPECT_TRUE(get(sim, 9, r.key).found());
}

TEST_F(DhtSim, RunsAreDeterministic) {
    auto run = [](std::uint64_t seed) {
        Simulation sim(small_config(seed));
        sim.add_node();
        for (int i = 0; i < 40; ++i) sim.join(static_cast<std::size_t>(i) / 2);
        return std::make_pair(sim.net_stats().delivered, sim.clock().now());
    };
    EXPECT_EQ(run(5), run(5));
    EXPECT_NE(run(5).first, run(6).first);
}

TEST_F(DhtSim, WrongPeerCannotAnswerAnotherPeersRequest) {
    Simulation sim(small_config());
    const auto a = sim.add_node(), b = sim.add_node(), c = sim.add_node();
    sim.kill(b);
    std::string request_id;
    sim.set_tap([&](std::size_t from, const wire::Contact&, const dht::Message& m) {
        if (from == a && std::holds_alternative<wire::Ping>(m.payload)) request_id = m.id;
    });
    std::optional<std::optional<NodeId>> result;
    sim.node(a).ping(sim.contact(b), [&](std::optional<NodeId> id) { result = id; });
    ASSERT_EQ(request_id.size(), 32u);
    // C answers A's PING to B with its real id: the answer is not B's, so it does not count.
    const auto before = sim.node(a).stats().unexpected;
    sim.node(a).on_message({sim.contact(c), std::string(32, 'c'), wire::Pong{request_id}});
    EXPECT_EQ(sim.node(a).stats().unexpected, before + 1);
    EXPECT_FALSE(result.has_value());
    sim.run_for(10s, [&] { return result.has_value(); });
    ASSERT_TRUE(result.has_value());
    EXPECT_FALSE(result->has_value());  // timed out: C's forged answer did not count
}

// The issue's simulator targets, scaled down to run in CI (tools/sim runs them at 10,000 nodes):
// lookups succeed with median hops <= 4, also after a quarter of the nodes die, and under 10% loss.
TEST_F(DhtSim, MeshMeetsLookupTargetsUnderFailures) {
    Simulation sim(small_config(21));
    grow(sim, 600);
    std::vector<wire::Record> records;
    for (int i = 0; i < 40; ++i) {
        records.push_back(record(sim, "m" + std::to_string(i)));
        ASSERT_TRUE(put(sim, static_cast<std::size_t>(i * 13) % sim.size(), records.back()).ok());
    }
    auto measure = [&](std::size_t lookups) {
        std::size_t found = 0;
        std::vector<std::size_t> hops;
        for (std::size_t l = 0; l < lookups; ++l) {
            std::size_t via = 0;
            do {
                via = std::uniform_int_distribution<std::size_t>(0, sim.size() - 1)(sim.rng());
            } while (!sim.alive(via));
            const auto got = get(sim, via, records[l % records.size()].key);
            if (got.found()) {
                ++found;
                hops.push_back(got.hops);
            }
        }
        std::sort(hops.begin(), hops.end());
        return std::make_pair(found, hops.empty() ? 99 : hops[hops.size() / 2]);
    };
    auto [found, median] = measure(200);
    EXPECT_EQ(found, 200u);
    EXPECT_LE(median, 4u);

    std::vector<std::size_t> order(sim.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), sim.rng());
    for (std::size_t i = 0; i < sim.size() / 4; ++i) sim.kill(order[i]);
    std::tie(found, median) = measure(200);
    EXPECT_GE(found, 198u);  // >= 99%

    sim.set_loss(0.10);
    std::tie(found, median) = measure(200);
    EXPECT_GE(found, 198u);  // >= 99%
}

}  // namespace
}  // namespace nocturne::sim
