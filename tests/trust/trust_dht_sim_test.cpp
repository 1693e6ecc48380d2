// The Web of Trust on the real path: agents (DHT node, trust state and policy, as the daemon runs
// them) in the deterministic simulator, with k smaller than the mesh so that no node holds every
// key.

#include <nocturne/sim/simulation.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_policy.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <gtest/gtest.h>

#include <memory>

#include "support/trusted_sim_mesh.hpp"
#include "trust_test_util.hpp"

namespace nocturne::trust {
namespace {

using namespace std::chrono_literals;
using test::key;

constexpr std::size_t mesh_size = 40;
constexpr std::size_t k = 8;
constexpr std::size_t stranger = 39;  // a node no operator vouches for

class TrustOnDht : public ::testing::Test {
protected:
    TrustOnDht() : mesh_({mesh_size, k, 11, stranger}), web_(mesh_.web()), sim_(&mesh_.sim()) {
        for (std::size_t i = 0; i < mesh_size; ++i) peers_.push_back(&mesh_.peer(i));
    }

    wire::Record entry(std::size_t author, const std::string& id) {
        const auto now = sim_->clock().unix_seconds();
        return wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                                  R"({"domain":"trust","id":")" + id + R"("})"},
                                 peers_[author]->keys)
            .value();
    }

    // Puts, then gives every agent time to look up the operators it has just met (its tick does).
    dht::PutResult put(std::size_t via, const wire::Record& r) {
        std::optional<dht::PutResult> out;
        sim_->node(via).put(r, [&](dht::PutResult res) { out = res; });
        sim_->run_for(60s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value());
        sim_->run_for(30s);
        return out.value_or(dht::PutResult{});
    }

    dht::LookupResult get(std::size_t via, const NodeId& key) {
        std::optional<dht::LookupResult> out;
        sim_->node(via).find_value(key, [&](dht::LookupResult res) { out = std::move(res); });
        sim_->run_for(60s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value());
        return out.value_or(dht::LookupResult{});
    }

    // Enrolls a new operator (endorsed by the three genesis operators) with `agent` as its agent:
    // the agent learns its own credentials, as `nocturne-agent enroll` leaves them for the node.
    std::pair<wire::Record, wire::Record> enroll(const crypto::KeyPair& op, std::size_t agent) {
        const auto now = sim_->clock().unix_seconds();
        auto cert = web_.cert_record(web_.certificate(op, web_.genesis_signers(3), now), op);
        auto agent_cert = web_.agent_record(op, peers_[agent]->keys, 0, 1, now);
        EXPECT_FALSE(peers_[agent]->state->learn(cert, now));
        EXPECT_FALSE(peers_[agent]->state->learn(agent_cert, now));
        EXPECT_TRUE(sim_->agent(agent).standing().has_value());
        return {cert, agent_cert};
    }

    ::nocturne::test::TrustedSimMesh mesh_;
    test::TestWeb& web_;
    sim::Simulation* sim_;
    std::vector<::nocturne::test::TrustedSimMesh::Peer*> peers_;
};

TEST_F(TrustOnDht, TrustedAgentsStoreAndEveryoneReads) {
    const auto r = entry(5, "e1");
    const auto res = put(5, r);
    EXPECT_GE(res.stored, k - 1);
    EXPECT_EQ(res.refused, 0u) << errc_name(res.first_refusal);
    // Nodes that never heard of agent 5 accepted it on the strength of the credentials it sent.
    for (std::size_t i = 0; i < mesh_size; ++i) {
        const auto got = get(i, r.key);
        ASSERT_TRUE(got.found()) << "node " << i;
        EXPECT_EQ(got.records[0].body, r.body);
    }
}

// A refusal that says the receiver did not know the sender's or the author's standing.
bool trust_refusal(errc code) {
    return code == errc::untrusted_peer || code == errc::unknown_agent;
}

// What the STOREs from one node carried.
struct StoresSeen {
    std::size_t stores = 0;
    std::size_t with_credentials = 0;
};

TEST_F(TrustOnDht, AnAgentsOwnStoresCarryNoCertificatesItsSessionPresentedThemOnce) {
    StoresSeen seen;
    sim_->set_tap([&](std::size_t from, const wire::Contact&, const dht::Message& msg) {
        const auto* store = std::get_if<wire::Store>(&msg.payload);
        if (from != 5 || store == nullptr) return;
        ++seen.stores;
        seen.with_credentials += store->credentials.empty() ? 0 : 1;
    });
    const auto res = put(5, entry(5, "bare"));
    EXPECT_GE(res.stored, k - 1);
    EXPECT_FALSE(trust_refusal(res.first_refusal)) << errc_name(res.first_refusal);
    EXPECT_GE(seen.stores, k - 1);
    EXPECT_EQ(seen.with_credentials, 0u) << "its chain came with its session, not per STORE";
    EXPECT_EQ(sim_->node(5).stats().stores_resent_with_credentials, 0u);

    // A replica of another's record carries its author's chain (agent and operator
    // certificates), still not the sender's: storer 5 replicates what 9 wrote.
    seen = {};
    sim_->set_tap([&](std::size_t from, const wire::Contact&, const dht::Message& msg) {
        const auto* store = std::get_if<wire::Store>(&msg.payload);
        if (from != 5 || store == nullptr) return;
        ++seen.stores;
        const auto author = NodeId::from_public_key(store->record.author).value();
        EXPECT_EQ(author, peers_[9]->keys.node_id());
        for (const auto& c : store->credentials) {
            EXPECT_NE(c.author, peers_[5]->keys.public_key()) << "not its own certificate";
        }
        seen.with_credentials += store->credentials.empty() ? 0 : 1;
    });
    auto& five = sim_->node(5);
    const auto r9 = entry(9, "replicated");
    ASSERT_FALSE(five.store_message(r9).credentials.empty());
    std::optional<dht::PutResult> replica;
    five.store_on(five.closest_contacts(r9.key, k, five.id(), true), r9,
                  [&](dht::PutResult r) { replica = r; });
    sim_->run_for(60s, [&] { return replica.has_value(); });
    ASSERT_TRUE(replica.has_value());
    EXPECT_GE(replica->stored, k / 2);
    EXPECT_FALSE(trust_refusal(replica->first_refusal)) << errc_name(replica->first_refusal);
    EXPECT_EQ(seen.with_credentials, seen.stores);
    sim_->set_tap({});
}

TEST_F(TrustOnDht, AnAgentEnrolledAfterItsSessionsBeganSendsItsCertificatesWhenAStoreIsRefused) {
    // enroll() gives the agent standing without the certificates its sessions present (as for a
    // node enrolled while its sessions were open): its peers do not know its standing.
    const std::size_t agent = stranger;
    enroll(key(78), agent);
    const auto agent_id = peers_[agent]->keys.node_id();
    std::size_t bare = 0, resent = 0, refused = 0;
    sim_->set_tap([&](std::size_t from, const wire::Contact& to, const dht::Message& msg) {
        if (const auto* store = std::get_if<wire::Store>(&msg.payload); store && from == agent) {
            ++(store->credentials.empty() ? bare : resent);
        }
        const auto* resp = std::get_if<wire::Response>(&msg.payload);
        const auto* result = resp ? std::get_if<wire::StoreResult>(&resp->result) : nullptr;
        if (to.id == agent_id && result != nullptr && trust_refusal(result->code)) ++refused;
    });
    const auto res = put(agent, entry(agent, "late"));
    sim_->set_tap({});
    EXPECT_GE(res.stored, k - 1);
    EXPECT_FALSE(trust_refusal(res.first_refusal)) << errc_name(res.first_refusal);
    EXPECT_GE(bare, k - 1);
    // Peers that had not learned its standing some other way refused, and got the chain.
    EXPECT_GE(refused, 1u);
    EXPECT_EQ(resent, refused) << "each STORE refused for want of its standing, once more";
    EXPECT_EQ(sim_->node(agent).stats().stores_resent_with_credentials, resent);
}

TEST_F(TrustOnDht, AnUntrustedPeerRoutesButItsStoresAreRefused) {
    const auto r = entry(stranger, "spam");
    const auto res = put(stranger, r);
    EXPECT_EQ(res.stored, 0u);
    EXPECT_GE(res.refused, k - 1);
    EXPECT_EQ(res.first_refusal, errc::unknown_agent);  // no agent certificate for its key
    EXPECT_FALSE(get(3, r.key).found());
    // It still takes part in routing: it finds others and others find it.
    const auto found = get(stranger, entry(7, "x").key);
    EXPECT_FALSE(found.closest.empty());
    std::optional<dht::LookupResult> lookup;
    sim_->node(2).find_node(peers_[stranger]->keys.node_id(),
                            [&](dht::LookupResult res2) { lookup = std::move(res2); });
    sim_->run_for(60s, [&] { return lookup.has_value(); });
    ASSERT_TRUE(lookup.has_value());
    ASSERT_FALSE(lookup->closest.empty());
    EXPECT_EQ(lookup->closest[0].id, peers_[stranger]->keys.node_id());
}

TEST_F(TrustOnDht, ANewcomerEnrollsPublishesItsCertificateAndIsRevokedEverywhere) {
    const auto op = key(77);
    const auto op_id = operator_id_of(op.public_key());
    const std::size_t agent = stranger;  // the stranger's operator enrolls
    auto [cert, agent_cert] = enroll(op, agent);
    // Certificates are accepted from anyone when valid, so the newcomer publishes its own.
    EXPECT_GE(put(agent, cert).stored, k - 1);
    EXPECT_GE(put(agent, agent_cert).stored, k - 1);
    const auto fetched = get(12, prefix_key("cert", op_id));
    ASSERT_TRUE(fetched.found());
    EXPECT_EQ(fetched.records[0].body, cert.body);

    const auto before = put(agent, entry(agent, "after-enroll"));
    EXPECT_GE(before.stored, k - 1);
    EXPECT_EQ(before.refused, 0u) << errc_name(before.first_refusal);

    // Three genesis operators revoke it; one of their agents publishes the revocation.
    const auto now = sim_->clock().unix_seconds();
    const auto revocation = web_.revocation_record(op_id, web_.genesis_signers(3), now);
    std::optional<dht::PutResult> stored;
    sim_->node(1).put(revocation, [&](dht::PutResult res) { stored = res; });
    sim_->run_for(60s, [&] { return stored.has_value(); });
    ASSERT_TRUE(stored.has_value());
    EXPECT_GE(stored->stored, k - 1);
    // Its storers gossip it: within two seconds every node knows, also the 40 - k outside the
    // revocation key's k closest, which no lookup of theirs was going to tell.
    sim_->run_for(2s);
    std::size_t know = 0;
    for (const auto& p : peers_) know += p->state->validator().is_revoked(op_id) ? 1 : 0;
    EXPECT_EQ(know, mesh_size);

    const auto after = put(agent, entry(agent, "after-revocation"));
    EXPECT_EQ(after.stored, 0u);
    EXPECT_GE(after.refused, k - 1);
    EXPECT_EQ(after.first_refusal, errc::operator_revoked) << "the sender is the author";
    // Its earlier entry is no longer believed by readers.
    EXPECT_FALSE(get(20, entry(agent, "after-enroll").key).found());
}

}  // namespace
}  // namespace nocturne::trust
