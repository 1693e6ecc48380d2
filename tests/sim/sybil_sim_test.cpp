// Unenrolled ids ground next to target keys (free to mint) try to eclipse them, roll records
// back and swallow writes; enrolled agents still find every record at its newest seq.

#include <nocturne/agent/agent.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/sim/sybil.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "trust/trust_test_util.hpp"

namespace nocturne::sim {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t honest = 160;
constexpr std::size_t sybils_per_target = 8;  // more than k: all k closest ids are theirs
constexpr std::size_t targets = 5;
constexpr std::size_t k = 6;

class SybilSim : public ::testing::Test {
protected:
    SybilSim() : web_(4) {
        SimConfig config;
        config.seed = 31;
        config.node.k = k;
        config.node.rpc_timeout = 2s;
        sim_ = std::make_unique<Simulation>(config);
        for (auto& op : web_.genesis.operators) op.max_agents = 64;
        const auto now = sim_->clock().unix_seconds();
        for (std::size_t i = 0; i < honest; ++i) {
            keys_.push_back(std::make_unique<crypto::KeyPair>(
                trust::test::key(static_cast<std::uint8_t>(i % 250 + 5))));
            // key() varies one byte: make the rest unique per agent too.
            crypto::Seed seed{};
            seed[0] = static_cast<std::uint8_t>(i);
            seed[1] = static_cast<std::uint8_t>(i >> 8);
            seed[2] = 0x77;
            *keys_.back() = crypto::KeyPair::from_seed(seed);
            const auto index = sim_->add_agent(*keys_.back(), web_.genesis);
            const auto& op = web_.genesis_keys[i % 4];
            sim_->agent(index).use_credentials(
                {web_.agent_record(op, *keys_.back(), static_cast<int>(i / 4), 1, now)});
            if (i > 0) sim_->bootstrap(index, i - 1);
        }
        sim_->run_for(2min);
    }

    NodeId target(std::size_t t) const { return content_key("eclipse", "t" + std::to_string(t)); }

    // Ids closer to the target than any honest node is (w.h.p.): the target's own bits, the last
    // three bytes random. Each member then PINGs honest nodes to get into their tables.
    void raise_crowd() {
        std::mt19937_64 rng(99);
        std::vector<SybilNode*> members;
        for (std::size_t t = 0; t < targets; ++t) {
            for (std::size_t s = 0; s < sybils_per_target; ++s) {
                NodeId id = target(t);
                for (std::size_t b = NodeId::size - 3; b < NodeId::size; ++b) {
                    id[b] = static_cast<std::uint8_t>(rng());
                }
                const auto index = sim_->add_participant(
                    id, [&, seed = rng()](dht::Transport& transport, const NodeId& nid,
                                          const std::string& address) {
                        auto node =
                            std::make_unique<SybilNode>(crowd_, transport, nid, address, seed);
                        members.push_back(node.get());
                        return node;
                    });
                crowd_.join(sim_->contact(index));
            }
        }
        std::vector<wire::Contact> everyone;
        for (std::size_t i = 0; i < honest; ++i) everyone.push_back(sim_->contact(i));
        for (auto* m : members) m->introduce_to(everyone);
        sim_->run_for(1min);
    }

    wire::Record version(std::size_t author, std::size_t t, std::uint64_t seq) {
        const auto now = sim_->clock().unix_seconds();
        return wire::sign_record({wire::RecordKind::knowledge, seq, now, now + 3600,
                                  R"({"domain":"eclipse","id":"t)" + std::to_string(t) + R"("})"},
                                 *keys_[author])
            .value();
    }

    dht::PutResult put(std::size_t via, const wire::Record& r) {
        std::optional<dht::PutResult> out;
        sim_->node(via).put(r, [&](dht::PutResult res) { out = res; });
        sim_->run_for(120s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value());
        return out.value_or(dht::PutResult{});
    }

    dht::LookupResult get(std::size_t via, const NodeId& key) {
        std::optional<dht::LookupResult> out;
        sim_->node(via).find_value(key, [&](dht::LookupResult res) { out = std::move(res); });
        sim_->run_for(120s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value());
        return out.value_or(dht::LookupResult{});
    }

    trust::test::TestWeb web_;
    std::vector<std::unique_ptr<crypto::KeyPair>> keys_;
    std::unique_ptr<Simulation> sim_;
    SybilCrowd crowd_;
};

TEST_F(SybilSim, GroundIdsNextToAKeyNeitherHideNorRollBackItsRecords) {
    raise_crowd();
    ASSERT_EQ(crowd_.size(), targets * sybils_per_target);
    std::size_t sybils_in_tables = 0;
    for (std::size_t i = 0; i < honest; ++i) {
        for (const auto& p : sim_->node(i).table().all_peers()) {
            for (std::size_t s = honest; s < sim_->size(); ++s) {
                sybils_in_tables += p.id == sim_->contact(s).id ? 1 : 0;
            }
        }
    }
    EXPECT_GT(sybils_in_tables, 0u) << "the crowd did get into routing tables";

    for (std::size_t t = 0; t < targets; ++t) {
        const std::size_t author = (t * 17) % honest;
        const auto first = version(author, t, 1);
        const auto v1 = put(author, first);
        crowd_.remember(first);  // read by the crowd now, served instead of v2 later
        // Only enrolled agents' signed acknowledgements count; the crowd's claims do not.
        EXPECT_GE(v1.stored, k - 1) << t;
        EXPECT_LE(v1.stored, k + 1) << t;
        const auto v2 = put(author, version(author, t, 2));
        EXPECT_GE(v2.stored, k - 1) << t;
    }
    // Every reader, wherever it is, finds each record at its newest seq.
    std::size_t reads = 0, newest = 0;
    for (std::size_t t = 0; t < targets; ++t) {
        for (std::size_t via = 3; via < honest; via += 13) {
            const auto got = get(via, target(t));
            ++reads;
            if (got.found() && got.records.size() == 1 && got.records[0].seq == 2) ++newest;
        }
    }
    EXPECT_EQ(newest, reads);
    EXPECT_EQ(crowd_.stores_received(), 0u) << "no STORE goes to an unenrolled node";
}

TEST_F(SybilSim, ADomainIndexNextToTheCrowdKeepsEveryAnnouncement) {
    raise_crowd();
    // Authors announce into a domain whose index key the crowd sits next to.
    const auto index_key = domain_index_key("eclipse-domain");
    std::mt19937_64 rng(5);
    std::vector<SybilNode*> unused;
    for (std::size_t s = 0; s < sybils_per_target; ++s) {
        NodeId id = index_key;
        for (std::size_t b = NodeId::size - 3; b < NodeId::size; ++b) {
            id[b] = static_cast<std::uint8_t>(rng());
        }
        const auto index = sim_->add_participant(
            id, [&, seed = rng()](dht::Transport& transport, const NodeId& nid,
                                  const std::string& address) {
                return std::make_unique<SybilNode>(crowd_, transport, nid, address, seed);
            });
        crowd_.join(sim_->contact(index));
    }
    const auto now = sim_->clock().unix_seconds();
    for (std::size_t a = 0; a < 10; ++a) {
        for (std::uint64_t seq : {1u, 2u}) {
            nlohmann::json payload = {{"domain", "eclipse-domain"},
                                      {"entry_id", "e" + std::to_string(a)},
                                      {"title", "v" + std::to_string(seq)}};
            auto r = wire::sign_record(
                {wire::RecordKind::domain_announce, seq, now, now + 3600, payload.dump()},
                *keys_[a * 7]);
            ASSERT_TRUE(r.has_value());
            EXPECT_GE(put(a * 7, *r).stored, k - 1);
            crowd_.remember(*r);  // keeps the seq 1 announcements
        }
    }
    for (std::size_t via = 1; via < honest; via += 23) {
        const auto got = get(via, index_key);
        ASSERT_EQ(got.records.size(), 10u) << via;
        for (const auto& r : got.records) EXPECT_EQ(r.seq, 2u);
    }
}

}  // namespace
}  // namespace nocturne::sim
