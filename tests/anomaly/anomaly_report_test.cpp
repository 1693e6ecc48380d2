#include <nocturne/core/hex.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/anomaly_report.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/vote/ballot.hpp>

#include <gtest/gtest.h>

#include "../trust/trust_test_util.hpp"

namespace nocturne::trust {
namespace {

using test::key;
using test::t0;
using test::TestWeb;

wire::Record commit_by(const crypto::KeyPair& agent, const std::string& op, int entry,
                       std::int64_t created, std::uint64_t round = 5, char digit = 'a') {
    vote::Commit c{content_key("d", "e" + std::to_string(entry)), round, op,
                   std::string(64, digit)};
    return vote::sign_commit(c, created, agent).value();
}

wire::Record announce_by(const crypto::KeyPair& agent, const std::string& op,
                         const std::string& entry, std::int64_t created) {
    const auto payload = R"({"domain":"flood","entry_id":")" + entry +
                         R"(","title":"t","content":"c","tags":[],"confidence":0.5,"created":)" +
                         std::to_string(created) + R"(,"operator_id":")" + op + R"("})";
    return wire::sign_record(
               {wire::RecordKind::domain_announce, 1, created, created + 3600, payload}, agent)
        .value();
}

class AnomalyReportTest : public ::testing::Test {
protected:
    AnomalyReportTest() {
        EXPECT_FALSE(state_.learn(web_.agent_record(accused_, agent_), t0));
        EXPECT_FALSE(state_.learn(web_.agent_record(web_.genesis_keys[1], reporter_), t0));
    }

    AnomalyReport burst(int votes, std::int64_t spread) {
        AnomalyReport r{web_.genesis.network, accused_id_, AnomalyType::vote_burst, {}, {}};
        for (int i = 0; i < votes; ++i) {
            r.evidence.push_back(commit_by(agent_, accused_id_, i, t0 + spread * i / votes));
        }
        r.agents.push_back(web_.agent_record(accused_, agent_));
        return r;
    }

    TestWeb web_;
    store::MemoryStore persist_;
    TrustState state_{web_.genesis, persist_, t0};
    const crypto::KeyPair& accused_ = web_.genesis_keys[0];
    const std::string accused_id_ = operator_id_of(accused_.public_key());
    const crypto::KeyPair agent_ = key(20);
    const crypto::KeyPair reporter_ = key(30);
    const AnomalyRules rules_{};
};

TEST_F(AnomalyReportTest, TwentyOneCommitmentsWithinAMinuteProveAVoteBurst) {
    EXPECT_FALSE(verify_report(burst(21, 59), rules_));
    // At the limit, or spread over more than a minute: no violation.
    EXPECT_EQ(verify_report(burst(20, 59), rules_), errc::invalid_evidence);
    EXPECT_EQ(verify_report(burst(21, 65), rules_), errc::invalid_evidence);
    // The same commitment twice counts once.
    auto twice = burst(20, 30);
    twice.evidence.push_back(twice.evidence.front());
    EXPECT_EQ(verify_report(twice, rules_), errc::invalid_evidence);
}

TEST_F(AnomalyReportTest, EvidenceMustBeTiedToTheAccusedOperatorByItsOwnCertificates) {
    auto no_cert = burst(21, 30);
    no_cert.agents.clear();
    EXPECT_EQ(verify_report(no_cert, rules_), errc::invalid_evidence);
    // Another operator's certificate for the agent does not make the accused its operator.
    auto framed = burst(21, 30);
    framed.operator_id = operator_id_of(web_.genesis_keys[2].public_key());
    EXPECT_EQ(verify_report(framed, rules_), errc::invalid_evidence);
    framed.agents = {web_.agent_record(web_.genesis_keys[2], key(40))};
    EXPECT_EQ(verify_report(framed, rules_), errc::invalid_evidence);
}

TEST_F(AnomalyReportTest, FiftyOneEntriesInOneDomainWithinAnHourProveAFlood) {
    AnomalyReport r{web_.genesis.network, accused_id_, AnomalyType::domain_flood, {}, {}};
    r.agents.push_back(web_.agent_record(accused_, agent_));
    for (int i = 0; i < 51; ++i) {
        r.evidence.push_back(
            announce_by(agent_, accused_id_, "e" + std::to_string(i), t0 + i * 60));
    }
    EXPECT_FALSE(verify_report(r, rules_));
    // Updates of one entry are not new entries.
    auto updates = r;
    for (int i = 0; i < 51; ++i)
        updates.evidence[i] = announce_by(agent_, accused_id_, "e0", t0 + i);
    EXPECT_EQ(verify_report(updates, rules_), errc::invalid_evidence);
}

TEST_F(AnomalyReportTest, AKeyTheOperatorRetiredOrAnotherNetworksRecordsProveNothing) {
    // A commitment signed after the agent's certificate expired.
    auto late = burst(21, 30);
    late.evidence.back() = commit_by(agent_, accused_id_, 99, t0 + test::year + 10);
    EXPECT_EQ(verify_report(late, rules_), errc::invalid_evidence);
    // The agent's certificate from another mesh (the same keys enrolled there too).
    auto other = burst(21, 30);
    other.agents = {
        sign_agent_certificate("other-net", accused_, agent_, 0, t0, test::year, 1).value()};
    EXPECT_EQ(verify_report(other, rules_), errc::invalid_evidence);
}

TEST_F(AnomalyReportTest, TwoAgentsOfOneOperatorVotingOnOneEntryIsNoEquivocation) {
    const auto second = key(21);
    AnomalyReport r{web_.genesis.network, accused_id_, AnomalyType::equivocation, {}, {}};
    r.agents = {web_.agent_record(accused_, agent_), web_.agent_record(accused_, second, 1)};
    r.evidence = {commit_by(agent_, accused_id_, 1, t0, 5, 'a'),
                  commit_by(second, accused_id_, 1, t0 + 1, 5, 'b')};
    EXPECT_EQ(verify_report(r, rules_), errc::invalid_evidence);
}

TEST_F(AnomalyReportTest, MoreEvidenceThanTheRuleNeedsIsNotDecoded) {
    const auto big = sign_report_record(burst(23, 30), reporter_, t0 + 60).value();
    EXPECT_EQ(report_from_record(big, rules_).error(), errc::value_out_of_range);
    auto stranger = burst(21, 30);
    stranger.evidence.back() = commit_by(key(77), accused_id_, 99, t0 + 10);
    const auto unnamed = sign_report_record(stranger, reporter_, t0 + 60).value();
    EXPECT_EQ(report_from_record(unnamed, rules_).error(), errc::invalid_evidence);
}

TEST_F(AnomalyReportTest, TwoDifferentCommitmentsInOneRoundProveAnEquivocation) {
    AnomalyReport r{web_.genesis.network, accused_id_, AnomalyType::equivocation, {}, {}};
    r.agents.push_back(web_.agent_record(accused_, agent_));
    r.evidence = {commit_by(agent_, accused_id_, 1, t0, 5, 'a'),
                  commit_by(agent_, accused_id_, 1, t0 + 1, 5, 'b')};
    EXPECT_FALSE(verify_report(r, rules_));
    r.evidence[1] = commit_by(agent_, accused_id_, 1, t0 + 1, 6, 'b');  // another round
    EXPECT_EQ(verify_report(r, rules_), errc::invalid_evidence);
}

TEST_F(AnomalyReportTest, TheTrustStateKeepsVerifiedReportsOfAgentsWithStandingOnly) {
    const auto good = sign_report_record(burst(21, 30), reporter_, t0 + 60).value();
    ASSERT_FALSE(state_.learn(good, t0 + 60));
    ASSERT_EQ(state_.reports().size(), 1u);
    EXPECT_EQ(state_.reports().front().operator_id, accused_id_);
    EXPECT_EQ(state_.reports().front().evidence, 21u);
    // A report that does not prove what it claims is refused, whoever signs it.
    const auto forged = sign_report_record(burst(20, 30), reporter_, t0 + 61).value();
    EXPECT_EQ(state_.learn(forged, t0 + 61), errc::invalid_evidence);
    // A stranger's report is not even decoded.
    EXPECT_EQ(state_.learn(sign_report_record(burst(21, 30), key(50), t0 + 62).value(), t0 + 62),
              errc::unknown_agent);
    // A reporter's newer report on the same operator and rule replaces its older one: an operator
    // that keeps breaking a rule does not fill the reporter's share of the memory.
    for (int i = 0; i < 20; ++i) {
        const auto now = t0 + 100 + i;
        ASSERT_FALSE(state_.learn(sign_report_record(burst(21, 30), reporter_, now).value(), now));
    }
    ASSERT_EQ(state_.reports().size(), 1u);
    EXPECT_EQ(state_.reports().front().record.created, t0 + 119);
    // The same forged report again is not verified again.
    EXPECT_EQ(state_.learn(forged, t0 + 200), errc::bad_signature);
}

}  // namespace
}  // namespace nocturne::trust
