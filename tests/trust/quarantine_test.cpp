#include <nocturne/core/clock.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/quarantine.hpp>
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

constexpr std::int64_t day = 86400;

wire::Record knowledge_by(const crypto::KeyPair& agent, std::int64_t created,
                          const std::string& id = "e1") {
    return wire::sign_record({wire::RecordKind::knowledge, 1, created, created + 3600,
                              R"({"domain":"trust","id":")" + id + R"("})"},
                             agent)
        .value();
}

QuarantineOrder order_of(const TestWeb& web, const std::string& operator_id,
                         QuarantineAction action, std::int64_t at, std::int64_t until,
                         const std::vector<const crypto::KeyPair*>& signers) {
    QuarantineOrder o{web.genesis.network, operator_id, action, at, until, "", "vote burst", {}};
    for (const auto* s : signers) o.signatures.push_back(sign_quarantine(*s, o));
    return o;
}

wire::Record order_record(const QuarantineOrder& o, const crypto::KeyPair& author,
                          std::int64_t now) {
    return sign_quarantine_record(o, author, now).value();
}

class QuarantineTest : public ::testing::Test {
protected:
    QuarantineTest() {
        EXPECT_FALSE(state_.learn(cert_, t0));
        EXPECT_FALSE(state_.learn(web_.agent_record(newcomer_, agent_), t0));
        EXPECT_FALSE(state_.learn(web_.agent_record(web_.genesis_keys[0], replica_), t0));
    }

    wire::Record hold(std::int64_t at, std::int64_t until, std::size_t signers = 3) {
        return order_record(order_of(web_, newcomer_id_, QuarantineAction::hold, at, until,
                                     web_.genesis_signers(signers)),
                            web_.genesis_keys[0], at);
    }
    wire::Record lift(std::int64_t at) {
        return order_record(
            order_of(web_, newcomer_id_, QuarantineAction::lift, at, at, web_.genesis_signers(3)),
            web_.genesis_keys[1], at);
    }

    TestWeb web_;
    store::MemoryStore persist_;
    TrustState state_{web_.genesis, persist_, t0};
    ManualClock clock_{Clock::time_point{std::chrono::seconds(t0)}};
    TrustPolicy policy_{state_, clock_, key(99).node_id()};
    const crypto::KeyPair newcomer_ = key(10);
    const crypto::KeyPair agent_ = key(20);    // the newcomer's agent
    const crypto::KeyPair replica_ = key(30);  // an agent of genesis operator 1
    wire::Record cert_ =
        web_.cert_record(web_.certificate(newcomer_, web_.genesis_signers(3)), newcomer_);
    std::string newcomer_id_ = operator_id_of(newcomer_.public_key());
};

TEST_F(QuarantineTest, AHoldNeedsTheRevocationThresholdOfTrustedSigners) {
    EXPECT_EQ(state_.learn(hold(t0, t0 + day, 2), t0), errc::insufficient_signatures);
    EXPECT_EQ(state_.quarantine_of(newcomer_id_, t0), nullptr);
    // Three signatures, one of them the held operator's own: still two.
    auto o = order_of(web_, newcomer_id_, QuarantineAction::hold, t0, t0 + day,
                      {&web_.genesis_keys[0], &web_.genesis_keys[1], &newcomer_});
    EXPECT_EQ(state_.learn(order_record(o, web_.genesis_keys[0], t0), t0),
              errc::insufficient_signatures);
    ASSERT_FALSE(state_.learn(hold(t0, t0 + day), t0));
    ASSERT_NE(state_.quarantine_of(newcomer_id_, t0), nullptr);
    EXPECT_EQ(state_.quarantine_of(newcomer_id_, t0)->until, t0 + day);
}

TEST_F(QuarantineTest, AForgedSignatureOrAHoldLongerThanThirtyDaysIsRefused) {
    auto o =
        order_of(web_, newcomer_id_, QuarantineAction::hold, t0, t0 + day, web_.genesis_signers(3));
    o.signatures[2].sig[0] ^= 1;
    EXPECT_EQ(state_.learn(order_record(o, web_.genesis_keys[0], t0), t0),
              errc::insufficient_signatures);
    auto too_long = order_of(web_, newcomer_id_, QuarantineAction::hold, t0,
                             t0 + max_quarantine_seconds + 1, web_.genesis_signers(3));
    EXPECT_EQ(sign_quarantine_record(too_long, web_.genesis_keys[0], t0).error(),
              errc::value_out_of_range);
    EXPECT_EQ(check_quarantine_fields(too_long), errc::value_out_of_range);
}

TEST_F(QuarantineTest, AHeldOperatorsWritesAreRefusedUntilTheHoldEnds) {
    EXPECT_FALSE(policy_.admit(knowledge_by(agent_, t0), {}, agent_.node_id(), Use::store));
    ASSERT_FALSE(state_.learn(hold(t0 + 10, t0 + day), t0 + 10));
    clock_.set(Clock::time_point{std::chrono::seconds(t0 + 20)});
    EXPECT_EQ(policy_.admit(knowledge_by(agent_, t0 + 20, "e2"), {}, agent_.node_id(), Use::store),
              errc::operator_quarantined);
    // What it signed before the hold: a replica of another operator may pass it on, the held
    // operator itself may not (it could backdate what it writes now).
    const auto before = knowledge_by(agent_, t0 - 3600, "old");
    EXPECT_EQ(policy_.admit(before, {}, agent_.node_id(), Use::store), errc::operator_quarantined);
    EXPECT_FALSE(policy_.admit(before, {}, replica_.node_id(), Use::store));
    // Readers drop what it wrote during the hold.
    EXPECT_EQ(policy_.admit(knowledge_by(agent_, t0 + 20, "e2"), {}, replica_.node_id(), Use::read),
              errc::operator_quarantined);
    // Its agent keeps its standing: it still routes and holds others' records.
    EXPECT_TRUE(policy_.storer(agent_.node_id()));

    clock_.set(Clock::time_point{std::chrono::seconds(t0 + day)});
    EXPECT_EQ(state_.quarantine_of(newcomer_id_, t0 + day), nullptr);
    EXPECT_FALSE(
        policy_.admit(knowledge_by(agent_, t0 + day, "e3"), {}, agent_.node_id(), Use::store));
}

TEST_F(QuarantineTest, ALiftByTheThresholdEndsTheHoldAndAnOlderOrderChangesNothing) {
    const auto h = hold(t0, t0 + 10 * day);
    ASSERT_FALSE(state_.learn(h, t0));
    ASSERT_FALSE(state_.learn(lift(t0 + day), t0 + day));
    EXPECT_EQ(state_.quarantine_of(newcomer_id_, t0 + day), nullptr);
    // The hold again (a replay, or a slow replica): known, nothing changes; re-published by
    // another signer: older than the lift, not taken.
    EXPECT_FALSE(state_.learn(h, t0 + day));
    EXPECT_EQ(state_.quarantine_of(newcomer_id_, t0 + day), nullptr);
    const auto again = order_record(order_of(web_, newcomer_id_, QuarantineAction::hold, t0,
                                             t0 + 10 * day, web_.genesis_signers(3)),
                                    web_.genesis_keys[2], t0 + day);
    EXPECT_EQ(state_.learn(again, t0 + day), errc::stale_seq);
    EXPECT_EQ(state_.quarantine_of(newcomer_id_, t0 + day), nullptr);
    // A later hold stands again.
    ASSERT_FALSE(state_.learn(hold(t0 + 2 * day, t0 + 3 * day), t0 + 2 * day));
    EXPECT_NE(state_.quarantine_of(newcomer_id_, t0 + 2 * day), nullptr);
}

TEST_F(QuarantineTest, AStandingHoldSurvivesARestart) {
    ASSERT_FALSE(state_.learn(hold(t0, t0 + day), t0));
    TrustState restarted(web_.genesis, persist_, t0 + 60);
    ASSERT_NE(restarted.quarantine_of(newcomer_id_, t0 + 60), nullptr);
}

TEST_F(QuarantineTest, ShareFilesCombineIntoTheOrderAndDisagreementIsAnError) {
    auto first =
        order_of(web_, newcomer_id_, QuarantineAction::hold, t0, t0 + day, {&web_.genesis_keys[0]});
    auto text = encode_quarantine_share(first);
    auto parsed = parse_quarantine_share(text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    auto second = *parsed;
    second.signatures = {sign_quarantine(web_.genesis_keys[1], second)};
    auto combined = combine_quarantine_shares({*parsed, second});
    ASSERT_TRUE(combined.has_value());
    EXPECT_EQ(combined->signatures.size(), 2u);
    auto other = second;
    other.until += 1;
    EXPECT_EQ(combine_quarantine_shares({*parsed, other}).error(), errc::value_out_of_range);
    // A share whose signature does not cover its fields is refused when read.
    auto tampered = text;
    tampered.replace(tampered.find("vote burst"), 10, "vote-burst");
    EXPECT_EQ(parse_quarantine_share(tampered).error(), errc::bad_signature);
}

}  // namespace
}  // namespace nocturne::trust
