// Votes as records: the commitment binds entry, round, operator, choice and salt; the readers are
// strict; the storers' rules refuse what the issue lists with its code; the tally counts one vote
// per operator.

#include <nocturne/core/hex.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/vote/ballot.hpp>
#include <nocturne/vote/tally.hpp>
#include <nocturne/vote/vote_service.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

namespace nocturne::vote {
namespace {

constexpr Windows windows{60, 30};
constexpr std::uint64_t round = 28'333'333;  // commit [1699999980, 1700000040)
const std::int64_t commit_at = windows.commit_start(round) + 5;
const std::int64_t reveal_at = windows.reveal_start(round);

crypto::KeyPair agent(std::uint8_t n) {
    crypto::Seed seed{};
    seed.fill(n);
    return crypto::KeyPair::from_seed(seed);
}

std::string op(std::uint8_t n) {
    return trust::operator_id_of(agent(static_cast<std::uint8_t>(100 + n)).public_key());
}

const NodeId entry = content_key("go", "e1");

struct Cast {
    wire::Record commit;
    wire::Record reveal;
};

Cast cast(std::uint8_t a, std::uint8_t o, int choice, std::uint64_t r = round,
          std::int64_t created = 0) {
    const auto keys = agent(a);
    const auto salt = derive_salt(keys, entry, r);
    Commit c{entry, r, op(o), commitment_of(entry, r, op(o), choice, salt)};
    Reveal v{entry, r, op(o), choice, salt, "because"};
    return {sign_commit(c, created != 0 ? created : windows.commit_start(r) + 5, keys).value(),
            sign_reveal(v, windows.reveal_start(r), keys).value()};
}

TEST(Ballot, TheCommitmentBindsEveryPartAndTheSaltIsDerivedAgain) {
    const auto keys = agent(1);
    const auto salt = derive_salt(keys, entry, round);
    EXPECT_EQ(salt, derive_salt(agent(1), entry, round)) << "deterministic";
    EXPECT_NE(salt, derive_salt(agent(2), entry, round)) << "another agent cannot guess it";
    EXPECT_NE(salt, derive_salt(keys, entry, round + 1));
    const auto base = commitment_of(entry, round, op(1), 1, salt);
    EXPECT_EQ(base.size(), 64u);
    EXPECT_NE(base, commitment_of(entry, round, op(1), -1, salt));
    EXPECT_NE(base, commitment_of(entry, round + 1, op(1), 1, salt));
    EXPECT_NE(base, commitment_of(entry, round, op(2), 1, salt));
    EXPECT_NE(base, commitment_of(content_key("go", "e2"), round, op(1), 1, salt));
    EXPECT_NE(base, commitment_of(entry, round, op(1), 1, derive_salt(keys, entry, round + 1)));
}

TEST(Ballot, RecordsRoundTripAndStrangeFieldsAreRefused) {
    const auto c = cast(1, 1, 1);
    EXPECT_EQ(c.commit.key, prefix_key("vote", entry.to_hex()));
    EXPECT_EQ(c.commit.slot, "commit");
    EXPECT_EQ(c.reveal.slot, "reveal");
    EXPECT_EQ(c.commit.seq, round);
    const auto commit = commit_from_record(c.commit).value();
    const auto reveal = reveal_from_record(c.reveal).value();
    EXPECT_TRUE(opens(reveal, commit));
    EXPECT_EQ(reveal.reason, "because");
    EXPECT_FALSE(commit_from_record(c.reveal).has_value());
    const auto keys = agent(1);
    const auto bad = [&](nlohmann::json payload, std::uint64_t seq = round) {
        auto r = wire::sign_record(
            {wire::RecordKind::vote, seq, commit_at, commit_at + 60, payload.dump()}, keys);
        if (!r) return r.error().code();
        auto out = payload["phase"] == "commit" ? commit_from_record(*r).error().code()
                                                : reveal_from_record(*r).error().code();
        return out;
    };
    nlohmann::json ok = {
        {"entry_key", entry.to_hex()}, {"phase", "reveal"}, {"round", round},
        {"operator_id", op(1)},        {"choice", 1},       {"salt", std::string(64, 'a')}};
    auto p = ok;
    p["choice"] = 0;
    EXPECT_EQ(bad(p), make_error_code(errc::value_out_of_range));
    p = ok;
    p["choice"] = 2;
    EXPECT_EQ(bad(p), make_error_code(errc::value_out_of_range));
    p = ok;
    p["extra"] = 1;
    EXPECT_EQ(bad(p), make_error_code(errc::unknown_field));
    p = ok;
    p["salt"] = std::string(64, 'A');
    EXPECT_EQ(bad(p), make_error_code(errc::value_out_of_range));
    EXPECT_EQ(bad(ok, round + 1), make_error_code(errc::value_out_of_range)) << "round = seq";
    p = ok;
    p.erase("operator_id");
    EXPECT_EQ(bad(p), make_error_code(errc::missing_field));
}

// The storers' rules, with what a storer holds under the key.
struct Storer {
    std::vector<wire::Record> held;
    std::map<crypto::PublicKey, std::string> operators;  // author -> operator
    std::optional<Equivocation> evidence;

    std::error_code offer(const wire::Record& r, std::int64_t now, bool first_hand = true) {
        const auto it = operators.find(r.author);
        auto op_of = it == operators.end() ? std::nullopt : std::optional(it->second);
        evidence.reset();
        auto ec = check_vote(r, first_hand, now, windows, held, op_of, evidence);
        if (!ec) {
            std::erase_if(held, [&](const wire::Record& h) {
                return h.author == r.author && h.slot == r.slot;
            });
            held.push_back(r);
        }
        return ec;
    }
};

TEST(StorerRules, EveryRefusalHasItsCode) {
    Storer s;
    for (std::uint8_t a = 1; a <= 4; ++a) s.operators[agent(a).public_key()] = op(a);
    s.operators[agent(5).public_key()] = op(1);  // a second agent of operator 1
    const auto one = cast(1, 1, 1);
    EXPECT_FALSE(s.offer(one.commit, commit_at));
    EXPECT_FALSE(s.offer(one.commit, commit_at + 1)) << "the same record again is no new vote";
    // Reveal without commitment; reveal that does not match; too early; too late. A reveal is
    // taken only once this storer takes no more commitments of the round (after its grace).
    const auto grace = grace_seconds(windows);
    const auto two = cast(2, 2, -1);
    EXPECT_EQ(s.offer(two.reveal, reveal_at + grace), make_error_code(errc::no_commitment));
    EXPECT_EQ(s.offer(one.reveal, commit_at), make_error_code(errc::vote_window_closed))
        << "before its window";
    EXPECT_EQ(s.offer(one.reveal, reveal_at + grace - 1), make_error_code(errc::vote_window_closed))
        << "while commitments are still taken";
    auto forged = cast(1, 1, -1);  // the same agent and round, the other choice: does not open
    EXPECT_EQ(s.offer(forged.reveal, reveal_at + grace), make_error_code(errc::reveal_mismatch));
    EXPECT_EQ(s.offer(one.reveal, windows.reveal_end(round) + grace),
              make_error_code(errc::vote_window_closed));
    EXPECT_FALSE(s.offer(one.reveal, reveal_at + grace));
    // A round beyond the next one (its seq would shadow every vote of the agent) is refused.
    const auto far = cast(4, 4, 1, round + 1000);
    EXPECT_EQ(s.offer(far.commit, commit_at), make_error_code(errc::vote_window_closed));
    // A commitment after its window (by this storer's clock), or dated outside it.
    const auto late = cast(3, 3, 1);
    EXPECT_EQ(s.offer(late.commit, reveal_at + grace_seconds(windows)),
              make_error_code(errc::vote_window_closed));
    const auto backdated = cast(3, 3, 1, round, windows.reveal_start(round));
    EXPECT_EQ(s.offer(backdated.commit, commit_at), make_error_code(errc::vote_window_closed));
    // ... which a replica may pass on later when it is dated inside.
    EXPECT_FALSE(s.offer(late.commit, reveal_at + 100, false));
    // Equivocation: operator 1's second agent commits otherwise in the same round.
    const auto other = cast(5, 1, -1);
    EXPECT_EQ(s.offer(other.commit, commit_at), make_error_code(errc::equivocation));
    ASSERT_TRUE(s.evidence.has_value());
    EXPECT_EQ(s.evidence->held.sig, one.commit.sig);
    EXPECT_EQ(s.evidence->offered.sig, other.commit.sig);
    // Unenrolled or revoked (no standing); a vote in another operator's name.
    EXPECT_EQ(s.offer(cast(6, 6, 1).commit, commit_at), make_error_code(errc::unknown_agent));
    EXPECT_EQ(s.offer(cast(4, 2, 1).commit, commit_at), make_error_code(errc::wrong_subject));
}

TEST(Tally, OneVotePerOperatorCountedAfterItsRevealAbstentionAfterTheWindow) {
    std::map<crypto::PublicKey, Standing> standing;
    for (std::uint8_t a = 1; a <= 5; ++a) standing[agent(a).public_key()] = {op(a), 0};
    standing[agent(6).public_key()] = {op(1), 0};  // operator 1's second agent
    standing[agent(4).public_key()] = {op(4), 1};  // endorsed by genesis: weight 1/2
    const auto of = [&](const crypto::PublicKey& k) -> std::optional<Standing> {
        const auto it = standing.find(k);
        if (it == standing.end()) return std::nullopt;
        return it->second;
    };
    const auto a = cast(1, 1, 1), b = cast(2, 2, 1), c = cast(3, 3, -1), d = cast(4, 4, 1),
               e = cast(5, 5, 1);
    // Operator 1 also voted in an older round through its second agent: the newer round counts.
    const auto old = cast(6, 1, -1, round - 3);
    std::vector<wire::Record> records = {a.commit, a.reveal,   b.commit,  b.reveal,
                                         c.commit, c.reveal,   d.commit,  d.reveal,
                                         e.commit, old.commit, old.reveal};
    auto t = count_votes(records, entry, 0.5, windows, reveal_at + 1, of);
    EXPECT_EQ(t.up, 3);  // 1, 2, 4
    EXPECT_EQ(t.down, 1);
    EXPECT_EQ(t.pending, 1);  // 5 has not revealed yet
    EXPECT_EQ(t.abstain, 0);
    EXPECT_DOUBLE_EQ(t.weight_up, 2.5);
    EXPECT_DOUBLE_EQ(t.confidence, (2 * 0.5 + 2.5) / (2 + 2.5 + 1));
    t = count_votes(records, entry, 0.5, windows, windows.reveal_end(round), of);
    EXPECT_EQ(t.abstain, 1) << "never revealed";
    EXPECT_EQ(t.pending, 0);
    // A revoked operator's votes drop out at once; votes on another entry do not count.
    standing.erase(agent(3).public_key());
    t = count_votes(records, content_key("go", "e2"), 0.5, windows, reveal_at + 1, of);
    EXPECT_EQ(t.up + t.down + t.pending, 0);
    t = count_votes(records, entry, 0.5, windows, reveal_at + 1, of);
    EXPECT_EQ(t.down, 0);
    EXPECT_EQ(t.voters.size(), 4u);
}

TEST(Tally, ConfidenceStartsAtTheStatedOneAndTheQuorumFollowsTheByzantineRule) {
    EXPECT_DOUBLE_EQ(voted_confidence(0.8, 0, 0), 0.8);
    EXPECT_DOUBLE_EQ(voted_confidence(0.8, 0, 3), 1.6 / 5);  // three down outweigh the prior
    EXPECT_DOUBLE_EQ(voted_confidence(0.2, 3, 0), 3.4 / 5);
    EXPECT_EQ(quorum_of(20), 14u);  // f = 6
    EXPECT_EQ(quorum_of(5), 4u);    // f = 1
    EXPECT_EQ(quorum_of(4), 3u);    // f = 1
    EXPECT_EQ(quorum_of(3), 2u);    // f = 0
    EXPECT_EQ(quorum_of(1), 1u);
    EXPECT_EQ(quorum_of(0), 0u);
}

TEST(Genesis, VoteWindowsAreOptionalAndChangeTheNetworkOnlyWhenSet) {
    trust::Genesis g;
    g.network = "n";
    const auto base = trust::encode_genesis(g);
    EXPECT_EQ(base.find("vote_"), std::string::npos);
    g.vote_commit_seconds = 10;
    const auto text = trust::encode_genesis(g);
    EXPECT_NE(text.find("\"vote_commit_seconds\": 10"), std::string::npos);
}

}  // namespace
}  // namespace nocturne::vote
