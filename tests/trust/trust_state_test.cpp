#include <nocturne/core/clock.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_policy.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <gtest/gtest.h>

#include "trust_test_util.hpp"

namespace nocturne::trust {
namespace {

using test::key;
using test::t0;
using test::TestWeb;
using Use = dht::RecordPolicy::Use;

wire::Record knowledge_by(const crypto::KeyPair& agent, const std::string& id = "e1",
                          std::uint64_t seq = 1) {
    return wire::sign_record({wire::RecordKind::knowledge, seq, t0, t0 + 3600,
                              R"({"domain":"trust","id":")" + id + R"("})"},
                             agent)
        .value();
}

class TrustStateTest : public ::testing::Test {
protected:
    TestWeb web_;
    store::MemoryStore persist_;
    TrustState state_{web_.genesis, persist_, t0};
    const crypto::KeyPair newcomer_ = key(10);
    const crypto::KeyPair agent_ = key(20);
    wire::Record cert_ =
        web_.cert_record(web_.certificate(newcomer_, web_.genesis_signers(3)), newcomer_);
    std::string newcomer_id_ = operator_id_of(newcomer_.public_key());
};

TEST_F(TrustStateTest, AgentOfAnEnrolledOperatorHasStanding) {
    EXPECT_EQ(state_.agent_standing(agent_.node_id(), t0).error(), errc::unknown_agent);
    EXPECT_EQ(state_.check_record(knowledge_by(agent_), t0), errc::unknown_agent);
    // Without the operator's certificate, its agent certificate proves nothing.
    EXPECT_EQ(state_.learn(web_.agent_record(newcomer_, agent_), t0), errc::untrusted_operator);

    ASSERT_FALSE(state_.learn(cert_, t0));
    ASSERT_FALSE(state_.learn(web_.agent_record(newcomer_, agent_), t0));
    auto standing = state_.agent_standing(agent_.node_id(), t0);
    ASSERT_TRUE(standing.has_value());
    EXPECT_EQ(standing->operator_id, newcomer_id_);
    EXPECT_EQ(standing->operator_depth, 1);
    EXPECT_FALSE(state_.check_record(knowledge_by(agent_), t0));
}

TEST_F(TrustStateTest, GenesisOperatorsCertifyAgentsWithoutACertificate) {
    const auto& g1 = web_.genesis_keys[0];
    ASSERT_FALSE(state_.learn(web_.agent_record(g1, agent_), t0));
    EXPECT_EQ(state_.agent_standing(agent_.node_id(), t0)->operator_depth, 0);
}

TEST_F(TrustStateTest, AgentSlotsAreBoundedAndANewerCertificateTakesTheSlot) {
    ASSERT_FALSE(state_.learn(cert_, t0));
    EXPECT_EQ(state_.learn(web_.agent_record(newcomer_, agent_, 5), t0), errc::too_many_agents);
    ASSERT_FALSE(state_.learn(web_.agent_record(newcomer_, agent_, 4, 1), t0));
    const auto replacement = key(21);
    ASSERT_FALSE(state_.learn(web_.agent_record(newcomer_, replacement, 4, 2), t0));
    EXPECT_EQ(state_.agent_standing(agent_.node_id(), t0).error(), errc::agent_superseded);
    EXPECT_TRUE(state_.agent_standing(replacement.node_id(), t0).has_value());
    // The old certificate cannot win the slot back.
    EXPECT_EQ(state_.learn(web_.agent_record(newcomer_, agent_, 4, 1), t0), errc::agent_superseded);
    EXPECT_EQ(state_.learn(web_.agent_record(newcomer_, key(22), 4, 2), t0), errc::seq_conflict);
}

TEST_F(TrustStateTest, RevocationRemovesStandingOfTheOperatorsAgents) {
    ASSERT_FALSE(state_.learn(cert_, t0));
    ASSERT_FALSE(state_.learn(web_.agent_record(newcomer_, agent_), t0));
    EXPECT_EQ(state_.learn(web_.revocation_record(newcomer_id_, web_.genesis_signers(2)), t0),
              errc::insufficient_signatures);
    ASSERT_FALSE(state_.learn(web_.revocation_record(newcomer_id_, web_.genesis_signers(3)), t0));
    EXPECT_EQ(state_.agent_standing(agent_.node_id(), t0).error(), errc::operator_revoked);
    EXPECT_EQ(state_.check_record(knowledge_by(agent_), t0), errc::operator_revoked);
    // Its certificate is no longer accepted either, even though it is known.
    EXPECT_EQ(state_.check_record(cert_, t0), errc::operator_revoked);
}

TEST_F(TrustStateTest, ASecondRevocationOfARevokedOperatorIsNeitherVerifiedNorKept) {
    std::vector<wire::Record> learned;
    state_.on_learned([&](const wire::Record& r) { learned.push_back(r); });
    const auto first = web_.revocation_record(newcomer_id_, web_.genesis_signers(3), t0);
    ASSERT_FALSE(state_.learn(first, t0));
    ASSERT_EQ(learned.size(), 1u);
    // Anyone can re-sign the same revocation as one more "signer": a new record, nothing new.
    auto rev = revocation_from_record(first).value();
    const auto stranger = key(77);
    rev.signatures.push_back(sign_revocation(stranger, rev.operator_id, rev.timestamp, rev.reason));
    const auto rewrapped = sign_revocation_record(rev, stranger, t0 + 60).value();
    EXPECT_EQ(state_.learn(rewrapped, t0 + 60), errc::operator_revoked);
    EXPECT_FALSE(state_.knows(rewrapped));
    EXPECT_EQ(learned.size(), 1u);
    // A later one by the genesis operators adds nothing either.
    EXPECT_EQ(state_.learn(web_.revocation_record(newcomer_id_, web_.genesis_signers(3), t0 + 120),
                           t0 + 120),
              errc::operator_revoked);
    EXPECT_EQ(learned.size(), 1u);
}

TEST_F(TrustStateTest, ChainsArriveInAnyOrderAndSurviveARestart) {
    // depth 2: l2 endorsed by three depth-1 operators.
    std::vector<crypto::KeyPair> l1;
    std::vector<wire::Record> records;
    for (std::uint8_t i = 0; i < 3; ++i) {
        l1.push_back(key(static_cast<std::uint8_t>(30 + i)));
        records.push_back(
            web_.cert_record(web_.certificate(l1.back(), web_.genesis_signers(3)), l1.back()));
    }
    const auto l2 = key(40);
    records.insert(records.begin(),
                   web_.cert_record(web_.certificate(l2, {&l1[0], &l1[1], &l1[2]}), l2));
    records.insert(records.begin(), web_.agent_record(l2, agent_));
    EXPECT_EQ(state_.learn_all(records, t0), records.size());
    EXPECT_EQ(state_.agent_standing(agent_.node_id(), t0)->operator_depth, 2);

    // The agent's credentials are enough for a node that knows nothing.
    const auto creds = state_.agent_credentials(agent_.node_id(), 16);
    EXPECT_EQ(creds.size(), 5u);  // agent cert, l2, three l1
    store::MemoryStore other_store;
    TrustState other(web_.genesis, other_store, t0);
    EXPECT_EQ(other.learn_all(creds, t0), 5u);
    EXPECT_TRUE(other.agent_standing(agent_.node_id(), t0).has_value());
    // A limit keeps the nearest certificates.
    EXPECT_EQ(state_.agent_credentials(agent_.node_id(), 2).size(), 2u);

    TrustState restarted(web_.genesis, persist_, t0 + 60);
    EXPECT_TRUE(restarted.agent_standing(agent_.node_id(), t0 + 60).has_value());
}

TEST_F(TrustStateTest, NoOperatorCanClaimAnAgentWithoutItsConsent) {
    ASSERT_FALSE(state_.learn(cert_, t0));
    ASSERT_FALSE(state_.learn(web_.agent_record(newcomer_, agent_), t0));
    // Genesis operator g1 claims the newcomer's agent: the countersignature is its own key's,
    // not the agent's.
    const auto& g1 = web_.genesis_keys[0];
    auto claim = web_.agent_record(g1, key(55), 0, 5);
    auto payload = nlohmann::json::parse(claim.payload);
    payload["agent_key"] = to_hex(agent_.public_key());
    auto forged =
        wire::sign_record({wire::RecordKind::agent_cert, 5, t0, t0 + 3600, payload.dump()}, g1);
    ASSERT_TRUE(forged.has_value());
    EXPECT_EQ(state_.learn(*forged, t0), errc::bad_signature);
    EXPECT_EQ(state_.agent_standing(agent_.node_id(), t0)->operator_id, newcomer_id_);
    // A consent given for one slot and seq does not transfer to another.
    payload = nlohmann::json::parse(web_.agent_record(newcomer_, agent_, 0, 1).payload);
    payload["agent_index"] = 3;
    auto moved = wire::sign_record({wire::RecordKind::agent_cert, 1, t0, t0 + 3600, payload.dump()},
                                   newcomer_);
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(state_.learn(*moved, t0), errc::bad_signature);
}

TEST_F(TrustStateTest, AnotherNetworksAgentCertificateIsRefused) {
    ASSERT_FALSE(state_.learn(cert_, t0));
    auto r = sign_agent_certificate("other-net", newcomer_, agent_, 0, t0, 3600, 1);
    EXPECT_EQ(state_.learn(*r, t0), errc::network_mismatch);
}

TEST_F(TrustStateTest, AValidatedRevocationSurvivesARestartAfterItsSignersLostStanding) {
    // Three endorsed operators revoke the newcomer; then one of them is revoked, and every
    // certificate expires. A restart keeps the revocation: it was valid when it was issued.
    const auto a = key(31), b = key(32), c = key(33);
    std::vector<wire::Record> certs;
    for (const auto* k : {&a, &b, &c}) {
        certs.push_back(web_.cert_record(web_.certificate(*k, web_.genesis_signers(3)), *k));
    }
    ASSERT_EQ(state_.learn_all(certs, t0), 3u);
    ASSERT_FALSE(state_.learn(cert_, t0));
    const auto t1 = t0 + 60;
    ASSERT_FALSE(state_.learn(web_.revocation_record(newcomer_id_, {&a, &b, &c}, t1), t1));
    ASSERT_FALSE(state_.learn(
        web_.revocation_record(operator_id_of(a.public_key()), web_.genesis_signers(3), t1 + 60),
        t1 + 60));
    const auto later = t0 + test::year + 3600;  // every certificate above has expired
    TrustState restarted(web_.genesis, persist_, later);
    EXPECT_TRUE(restarted.validator().is_revoked(newcomer_id_));
    EXPECT_TRUE(restarted.validator().is_revoked(operator_id_of(a.public_key())));

    // A node that learns the revocation only now accepts it with the signers' certificates as
    // they were at its time (expired since), as they come along with it.
    store::MemoryStore fresh_store;
    TrustState fresh(web_.genesis, fresh_store, t1 + 3600);
    std::vector<wire::Record> batch = certs;
    batch.push_back(web_.revocation_record(newcomer_id_, {&a, &b, &c}, t1));
    fresh.learn_all(batch, t1 + 3600);
    EXPECT_TRUE(fresh.validator().is_revoked(newcomer_id_));
    store::MemoryStore late_store;
    TrustState late_node(web_.genesis, late_store, later);
    late_node.learn_all(batch, later);
    EXPECT_TRUE(late_node.validator().is_revoked(newcomer_id_));
    // Without the signers' certificates there is nothing to judge them by.
    store::MemoryStore bare_store;
    TrustState bare(web_.genesis, bare_store, later);
    EXPECT_EQ(bare.learn(web_.revocation_record(newcomer_id_, {&a, &b, &c}, t1), later),
              errc::insufficient_signatures);
}

class TrustPolicyTest : public TrustStateTest {
protected:
    ManualClock clock_{Clock::time_point{std::chrono::seconds(t0)}};
    const crypto::KeyPair self_ = key(90);
    TrustPolicy policy_{state_, clock_, self_.node_id()};
    std::vector<wire::Record> creds_{cert_, web_.agent_record(newcomer_, agent_)};
};

TEST_F(TrustPolicyTest, StoresNeedATrustedAuthorAndSender) {
    const auto record = knowledge_by(agent_);
    EXPECT_EQ(policy_.admit(record, {}, agent_.node_id(), Use::store), errc::unknown_agent);
    policy_.learn_credentials(creds_);  // as the node does for each message, before admit()
    EXPECT_FALSE(policy_.admit(record, creds_, agent_.node_id(), Use::store));
    // An untrusted peer forwarding a trusted author's record is still an untrusted peer.
    EXPECT_EQ(policy_.admit(record, creds_, key(66).node_id(), Use::store), errc::untrusted_peer);
    // This node's own puts are judged on their author alone.
    EXPECT_EQ(policy_.admit(knowledge_by(key(67)), {}, self_.node_id(), Use::store),
              errc::unknown_agent);
}

TEST_F(TrustPolicyTest, CertificatesAreAcceptedFromAnyoneWhenValid) {
    const auto stranger = key(66).node_id();
    EXPECT_FALSE(policy_.admit(cert_, {}, stranger, Use::store));
    auto bad = web_.cert_record(web_.certificate(key(11), web_.genesis_signers(2)), key(11));
    EXPECT_EQ(policy_.admit(bad, {}, stranger, Use::store), errc::insufficient_endorsements);
}

TEST_F(TrustPolicyTest, ReadsDropKnownBadAuthorsAndLetUnknownOnesThrough) {
    EXPECT_FALSE(policy_.admit(knowledge_by(key(67)), {}, key(66).node_id(), Use::read));
    EXPECT_FALSE(policy_.admit(knowledge_by(agent_), creds_, key(66).node_id(), Use::read));
    ASSERT_FALSE(state_.learn(web_.revocation_record(newcomer_id_, web_.genesis_signers(3)), t0));
    EXPECT_EQ(policy_.admit(knowledge_by(agent_), creds_, key(66).node_id(), Use::read),
              errc::operator_revoked);
    store::MemoryStore fresh_store;
    TrustState fresh(web_.genesis, fresh_store, t0);
    ASSERT_FALSE(fresh.learn(web_.revocation_record(newcomer_id_, web_.genesis_signers(3)), t0));
    TrustPolicy fresh_policy(fresh, clock_, self_.node_id());
    EXPECT_EQ(fresh_policy.admit(knowledge_by(agent_), creds_, key(66).node_id(), Use::read),
              errc::operator_revoked);
}

TEST_F(TrustPolicyTest, SessionCertificatesAreVerifiedOnlyWhenThePeerIsFirstAskedAbout) {
    policy_.learn_peer(agent_.node_id(), std::make_shared<const std::vector<wire::Record>>(creds_));
    EXPECT_EQ(state_.agent_standing(agent_.node_id(), t0).error(), errc::unknown_agent)
        << "nothing verified yet";
    EXPECT_TRUE(policy_.storer(agent_.node_id()));
    EXPECT_TRUE(state_.agent_standing(agent_.node_id(), t0).has_value());
    // A STORE it sends is judged with them too.
    const auto other = key(24);
    policy_.learn_peer(other.node_id(),
                       std::make_shared<const std::vector<wire::Record>>(
                           std::vector<wire::Record>{web_.agent_record(newcomer_, other, 1)}));
    EXPECT_FALSE(policy_.admit(knowledge_by(agent_), {}, other.node_id(), Use::store));
    // Someone who presented nothing is no storer.
    EXPECT_FALSE(policy_.storer(key(25).node_id()));
}

TEST_F(TrustPolicyTest, AStoreOfItsAuthorsOwnRecordIsJudgedByWhatItsSessionPresented) {
    const auto record = knowledge_by(agent_);
    EXPECT_EQ(policy_.admit(record, {}, agent_.node_id(), Use::store), errc::unknown_agent)
        << "a session that presented nothing";
    policy_.learn_peer(agent_.node_id(), std::make_shared<const std::vector<wire::Record>>(creds_));
    EXPECT_FALSE(policy_.admit(record, {}, agent_.node_id(), Use::store));
    // The session's certificates stand only as long as the operator does.
    ASSERT_FALSE(state_.learn(web_.revocation_record(newcomer_id_, web_.genesis_signers(3)), t0));
    EXPECT_EQ(policy_.admit(record, {}, agent_.node_id(), Use::store), errc::operator_revoked);
}

TEST_F(TrustPolicyTest, AStoreCarriesItsRecordsProofButNotTheSendersOwnChain) {
    ASSERT_EQ(state_.learn_all(creds_, t0), 2u);
    ASSERT_FALSE(state_.learn(web_.agent_record(web_.genesis_keys[0], self_), t0));
    // Another's record: its author's agent certificate and operator certificate, not ours.
    const auto replica = policy_.store_credentials(knowledge_by(agent_), 16);
    ASSERT_EQ(replica.size(), 2u);
    for (const auto& c : replica) EXPECT_NE(c.author, web_.genesis_keys[0].public_key());
    // Our own record: nothing (our session presented our chain).
    EXPECT_TRUE(policy_.store_credentials(knowledge_by(self_), 16).empty());
}

TEST_F(TrustPolicyTest, AStorerLosesItsStandingAtOnceWhenRevokedOrSuperseded) {
    policy_.learn_credentials(creds_);
    ASSERT_TRUE(policy_.storer(agent_.node_id()));
    ASSERT_TRUE(policy_.storer(agent_.node_id()));  // the second answer comes from the cache
    // A newer certificate for the same slot hands the slot to another agent.
    const auto replacement = key(21);
    ASSERT_FALSE(state_.learn(web_.agent_record(newcomer_, replacement, 0, 2), t0));
    EXPECT_FALSE(policy_.storer(agent_.node_id()));
    EXPECT_TRUE(policy_.storer(replacement.node_id()));
    // A revocation of the operator takes every agent's standing.
    ASSERT_FALSE(state_.learn(web_.revocation_record(newcomer_id_, web_.genesis_signers(3)), t0));
    EXPECT_FALSE(policy_.storer(replacement.node_id()));
}

TEST_F(TrustPolicyTest, AStorerWhoseCertificateExpiredIsNoLongerOne) {
    const auto g1_agent = key(23);
    ASSERT_FALSE(state_.learn(web_.agent_record(web_.genesis_keys[0], g1_agent), t0));
    ASSERT_TRUE(policy_.storer(g1_agent.node_id()));
    clock_.advance(std::chrono::seconds(test::year + 1));
    EXPECT_FALSE(policy_.storer(g1_agent.node_id()));
}

TEST_F(TrustPolicyTest, OutgoingCredentialsCarryTheAuthorsAndOurOwnChain) {
    ASSERT_EQ(state_.learn_all(creds_, t0), 2u);
    EXPECT_EQ(policy_.credentials_for(knowledge_by(agent_), 16).size(), 2u);
    // Once this node is an agent itself, its own certificate rides along too.
    ASSERT_FALSE(state_.learn(web_.agent_record(web_.genesis_keys[0], self_), t0));
    EXPECT_EQ(policy_.credentials_for(knowledge_by(agent_), 16).size(), 3u);
    EXPECT_EQ(policy_.credentials_for(knowledge_by(agent_), 1).size(), 1u);
}

}  // namespace
}  // namespace nocturne::trust
