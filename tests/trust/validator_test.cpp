// Plan Tasks 7 and 8 (certificates, revocation), plus the additions: duplicate endorsers
// count once, endorsements for another key and expired certificates are rejected, depth 4 is not.

#include <nocturne/trust/validator.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <gtest/gtest.h>

#include "trust_test_util.hpp"

namespace nocturne::trust {
namespace {

using test::key;
using test::t0;
using test::TestWeb;
using test::year;

class Validator : public ::testing::Test {
protected:
    TestWeb web_;
    TrustValidator v_{web_.genesis};

    // Enrolls `subject` endorsed by `endorsers` into v_; expects success.
    void enroll(const crypto::KeyPair& subject,
                const std::vector<const crypto::KeyPair*>& endorsers) {
        auto cert = web_.certificate(subject, endorsers);
        ASSERT_FALSE(v_.add_certificate(cert, t0)) << v_.evaluate(cert, t0).error.message();
    }
};

TEST_F(Validator, GenesisOperatorsAreTrustedAtDepthZero) {
    for (const auto& k : web_.genesis_keys) {
        EXPECT_EQ(v_.operator_depth(operator_id_of(k.public_key()), t0).value(), 0);
    }
    EXPECT_EQ(v_.operator_depth(operator_id_of(key(50).public_key()), t0).error(),
              errc::untrusted_operator);
}

TEST_F(Validator, ThreeGenesisEndorsementsMakeAValidCertificate) {
    const auto newcomer = key(10);
    auto cert = web_.certificate(newcomer, web_.genesis_signers(3));
    auto verdict = v_.evaluate(cert, t0);
    EXPECT_FALSE(verdict.error) << verdict.error.message();
    EXPECT_EQ(verdict.depth, 1);
    EXPECT_EQ(verdict.counted, 3);
    EXPECT_FALSE(v_.add_certificate(cert, t0));
    EXPECT_TRUE(v_.is_trusted(cert.operator_id, t0));
    EXPECT_EQ(v_.max_agents(cert.operator_id, t0).value(), 5);
}

TEST_F(Validator, RejectsInsufficientEndorsements) {
    auto cert = web_.certificate(key(10), web_.genesis_signers(1));
    auto verdict = v_.evaluate(cert, t0);
    EXPECT_EQ(verdict.error, errc::insufficient_endorsements);
    EXPECT_EQ(verdict.counted, 1);
    EXPECT_EQ(v_.add_certificate(cert, t0), errc::insufficient_endorsements);
    EXPECT_FALSE(v_.is_trusted(cert.operator_id, t0));
}

TEST_F(Validator, DuplicateEndorsementsFromOneEndorserCountOnce) {
    const auto& g1 = web_.genesis_keys[0];
    auto cert = web_.certificate(key(10), {&g1, &g1, &g1});
    auto verdict = v_.evaluate(cert, t0);
    EXPECT_EQ(verdict.error, errc::insufficient_endorsements);
    EXPECT_EQ(verdict.counted, 1);
    ASSERT_EQ(verdict.endorsements.size(), 3u);
    EXPECT_EQ(verdict.endorsements[1].error, errc::duplicate_signer);
    // Re-timed duplicates are distinct signatures but still one endorser.
    auto again = web_.certificate(key(10), web_.genesis_signers(2));
    again.endorsements.push_back(create_endorsement(g1, again.public_key, t0 + 5));
    EXPECT_EQ(v_.evaluate(again, t0).error, errc::insufficient_endorsements);
}

TEST_F(Validator, RejectsAnEndorsementForAnotherKey) {
    auto cert = web_.certificate(key(10), web_.genesis_signers(3));
    cert.endorsements[2] =
        create_endorsement(web_.genesis_keys[2], key(11).public_key(), t0);  // someone else
    auto verdict = v_.evaluate(cert, t0);
    EXPECT_EQ(verdict.error, errc::insufficient_endorsements);
    EXPECT_EQ(verdict.endorsements[2].error, errc::wrong_subject);
    // A forged signature does not count either.
    cert = web_.certificate(key(10), web_.genesis_signers(3));
    cert.endorsements[0].sig[5] ^= 1;
    EXPECT_EQ(v_.evaluate(cert, t0).endorsements[0].error, errc::bad_signature);
}

TEST_F(Validator, ForgedEndorsementsCostAtMostAFewVerifications) {
    // 32 endorsements claiming to come from trusted operators, none genuine.
    auto cert = web_.certificate(key(10), {});
    for (int i = 0; i < 32; ++i) {
        auto e = create_endorsement(key(static_cast<std::uint8_t>(50 + i)), cert.public_key, t0);
        e.endorser = web_.genesis_keys[static_cast<std::size_t>(i % 3)].public_key();
        cert.endorsements.push_back(e);
    }
    auto verdict = v_.evaluate(cert, t0);
    EXPECT_EQ(verdict.error, errc::bad_signature);
    EXPECT_EQ(verdict.endorsements.size(), 3u);  // it stopped at the third forgery
    // Made-up endorsers are not verified at all: they are not trusted.
    auto strangers = web_.certificate(key(10), {});
    for (int i = 0; i < 32; ++i) {
        strangers.endorsements.push_back(
            create_endorsement(key(static_cast<std::uint8_t>(50 + i)), strangers.public_key, t0));
    }
    verdict = v_.evaluate(strangers, t0);
    EXPECT_EQ(verdict.error, errc::insufficient_endorsements);
    EXPECT_EQ(verdict.endorsements[5].error, errc::untrusted_operator);
}

TEST_F(Validator, RejectsExpiredAndNotYetValidCertificates) {
    auto cert = web_.certificate(key(10), web_.genesis_signers(3), t0, 3600);
    EXPECT_FALSE(v_.validate_certificate(cert, t0 + 3599));
    EXPECT_EQ(v_.validate_certificate(cert, t0 + 3600), errc::certificate_expired);
    EXPECT_EQ(v_.validate_certificate(cert, t0 - 3600), errc::certificate_expired);
    // A remembered certificate stops counting when it expires.
    ASSERT_FALSE(v_.add_certificate(cert, t0));
    EXPECT_TRUE(v_.is_trusted(cert.operator_id, t0 + 10));
    EXPECT_EQ(v_.operator_depth(cert.operator_id, t0 + 3600).error(), errc::certificate_expired);
}

TEST_F(Validator, RejectsAnotherNetworksCertificate) {
    auto cert = web_.certificate(key(10), web_.genesis_signers(3));
    cert.network = "other-net";
    EXPECT_EQ(v_.validate_certificate(cert, t0), errc::network_mismatch);
}

TEST_F(Validator, UnknownEndorsersDoNotCount) {
    const auto stranger1 = key(40), stranger2 = key(41);
    auto cert = web_.certificate(key(10), {&web_.genesis_keys[0], &stranger1, &stranger2});
    auto verdict = v_.evaluate(cert, t0);
    EXPECT_EQ(verdict.error, errc::insufficient_endorsements);
    EXPECT_EQ(verdict.endorsements[1].error, errc::untrusted_operator);
}

TEST_F(Validator, EndorsedOperatorsEndorseDownToDepthThreeButNotFour) {
    // Each level is endorsed by the three operators of the level above.
    std::vector<std::vector<crypto::KeyPair>> levels;
    std::vector<const crypto::KeyPair*> above = web_.genesis_signers(3);
    for (int level = 1; level <= 4; ++level) {
        levels.emplace_back();
        for (int i = 0; i < 3; ++i)
            levels.back().push_back(key(static_cast<std::uint8_t>(10 * level + i)));
        for (const auto& k : levels.back()) {
            auto cert = web_.certificate(k, above);
            auto verdict = v_.evaluate(cert, t0);
            if (level <= 3) {
                EXPECT_FALSE(verdict.error) << "level " << level << ": " << verdict.error.message();
                EXPECT_EQ(verdict.depth, level);
                ASSERT_FALSE(v_.add_certificate(cert, t0));
            } else {
                EXPECT_EQ(verdict.error, errc::trust_depth_exceeded);
                EXPECT_EQ(verdict.endorsements[0].error, errc::trust_depth_exceeded);
                EXPECT_EQ(v_.add_certificate(cert, t0), errc::trust_depth_exceeded);
            }
        }
        above.clear();
        for (const auto& k : levels.back()) above.push_back(&k);
    }
}

TEST_F(Validator, MixedDepthsStandOnTheClosestEndorsers) {
    const auto l1 = key(10);
    enroll(l1, web_.genesis_signers(3));
    const auto& g = web_.genesis_keys;
    auto cert = web_.certificate(key(11), {&l1, &g[0], &g[1]});
    auto verdict = v_.evaluate(cert, t0);
    EXPECT_FALSE(verdict.error);
    EXPECT_EQ(verdict.depth, 2);  // its third-closest endorser is at depth 1
}

// ---- Task 8: revocation ------------------------------------------------------------------------

TEST_F(Validator, RevocationWithThresholdSignaturesIsValid) {
    const auto newcomer = key(10);
    enroll(newcomer, web_.genesis_signers(3));
    const auto id = operator_id_of(newcomer.public_key());
    auto rev =
        create_revocation(web_.genesis.network, id, "leaked key", t0, web_.genesis_signers(3));
    EXPECT_FALSE(v_.validate_revocation(rev, t0));
    EXPECT_FALSE(v_.is_revoked(id));
    ASSERT_FALSE(v_.apply_revocation(rev, t0));
    EXPECT_TRUE(v_.is_revoked(id));
    EXPECT_EQ(v_.operator_depth(id, t0).error(), errc::operator_revoked);
}

TEST_F(Validator, RevocationRejectsInsufficientAndUntrustedSignatures) {
    const auto newcomer = key(10);
    enroll(newcomer, web_.genesis_signers(3));
    const auto id = operator_id_of(newcomer.public_key());
    const auto& g = web_.genesis_keys;
    auto two = create_revocation(web_.genesis.network, id, "r", t0, {&g[0], &g[1]});
    EXPECT_EQ(v_.validate_revocation(two, t0), errc::insufficient_signatures);
    EXPECT_EQ(v_.apply_revocation(two, t0), errc::insufficient_signatures);
    EXPECT_FALSE(v_.is_revoked(id));

    const auto stranger = key(60);
    auto with_stranger =
        create_revocation(web_.genesis.network, id, "r", t0, {&g[0], &g[1], &stranger});
    EXPECT_EQ(v_.validate_revocation(with_stranger, t0), errc::insufficient_signatures);
    auto with_dup = create_revocation(web_.genesis.network, id, "r", t0, {&g[0], &g[1], &g[1]});
    EXPECT_EQ(v_.validate_revocation(with_dup, t0), errc::insufficient_signatures);
    // The target's own signature does not count towards its revocation.
    auto with_self =
        create_revocation(web_.genesis.network, id, "r", t0, {&g[0], &g[1], &newcomer});
    EXPECT_EQ(v_.validate_revocation(with_self, t0), errc::insufficient_signatures);
    // A signature over another reason does not count.
    auto tampered = create_revocation(web_.genesis.network, id, "r", t0, web_.genesis_signers(3));
    tampered.reason = "other";
    EXPECT_EQ(v_.validate_revocation(tampered, t0), errc::insufficient_signatures);
    // Nor does one in a record: reading it does not verify, judging it does.
    auto record = sign_revocation_record(tampered, web_.genesis_keys[0], t0);
    ASSERT_TRUE(record.has_value());
    auto read = revocation_from_record(*record);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(v_.apply_revocation(*read, t0), errc::insufficient_signatures);
    EXPECT_FALSE(v_.is_revoked(id));
}

TEST_F(Validator, RevokedOperatorsCannotEndorse) {
    TestWeb four(4);  // four genesis operators, so that three remain to revoke the fourth
    TrustValidator v(four.genesis);
    const auto& g = four.genesis_keys;
    const auto g4 = operator_id_of(g[3].public_key());
    ASSERT_FALSE(v.apply_revocation(
        create_revocation(four.genesis.network, g4, "r", t0, four.genesis_signers(3)), t0));
    auto cert = four.certificate(key(10), {&g[0], &g[1], &g[3]});
    auto verdict = v.evaluate(cert, t0);
    EXPECT_EQ(verdict.error, errc::insufficient_endorsements);
    EXPECT_EQ(verdict.endorsements[2].error, errc::operator_revoked);
}

TEST_F(Validator, RevokingAnEndorserTakesItsWeightFromExistingCertificates) {
    TestWeb four(4);
    TrustValidator v(four.genesis);
    const auto& g = four.genesis_keys;
    const auto newcomer = key(10);
    auto cert = four.certificate(newcomer, {&g[0], &g[1], &g[3]});
    ASSERT_FALSE(v.add_certificate(cert, t0));
    ASSERT_FALSE(v.apply_revocation(
        create_revocation(four.genesis.network, operator_id_of(g[3].public_key()), "r", t0,
                          four.genesis_signers(3)),
        t0));
    EXPECT_EQ(v.operator_depth(cert.operator_id, t0).error(), errc::insufficient_endorsements);
}

TEST_F(Validator, ARevocationIsJudgedByItsSignersStandingAtItsOwnTime) {
    // Three operators endorsed by genesis revoke a fourth; later one of them is revoked itself.
    const auto a = key(10), b = key(11), c = key(12), target = key(13);
    for (const auto* k : {&a, &b, &c, &target}) enroll(*k, web_.genesis_signers(3));
    const auto target_id = operator_id_of(target.public_key());
    const auto t1 = t0 + 100;
    auto rev = create_revocation(web_.genesis.network, target_id, "spam", t1, {&a, &b, &c});
    ASSERT_FALSE(v_.validate_revocation(rev, t1));
    const auto a_id = operator_id_of(a.public_key());
    ASSERT_FALSE(v_.apply_revocation(create_revocation(web_.genesis.network, a_id, "key lost",
                                                       t1 + 1000, web_.genesis_signers(3)),
                                     t1 + 1000));
    // Still valid when judged later, also after the signers' certificates expired: a was trusted
    // at t1.
    EXPECT_FALSE(v_.validate_revocation(rev, t1 + 2000));
    EXPECT_FALSE(v_.validate_revocation(rev, t0 + 2 * year));
    // A revocation dated after a's revocation does not count a's signature.
    auto late = create_revocation(web_.genesis.network, target_id, "spam", t1 + 2000, {&a, &b, &c});
    EXPECT_EQ(v_.validate_revocation(late, t1 + 2000), errc::insufficient_signatures);
    // Before its revocation time (less the tolerated clock skew) a was trusted; from it on, not.
    EXPECT_TRUE(v_.operator_depth(a_id, t1 + 1000 - 301).has_value());
    EXPECT_EQ(v_.operator_depth(a_id, t1 + 1000).error(), errc::operator_revoked);
}

TEST_F(Validator, OnlyAMajorityOfTheGenesisOperatorsCanRemoveOne) {
    // Three depth-1 operators are enough to revoke an ordinary operator, never a genesis one.
    const auto a = key(10), b = key(11), c = key(12);
    for (const auto* k : {&a, &b, &c}) enroll(*k, web_.genesis_signers(3));
    const auto& g = web_.genesis_keys;
    const auto g1 = operator_id_of(g[0].public_key());
    auto by_endorsed = create_revocation(web_.genesis.network, g1, "coup", t0, {&a, &b, &c});
    EXPECT_EQ(v_.validate_revocation(by_endorsed, t0), errc::genesis_protected);
    auto mixed = create_revocation(web_.genesis.network, g1, "coup", t0, {&a, &b, &g[1]});
    EXPECT_EQ(v_.validate_revocation(mixed, t0), errc::genesis_protected);
    // A majority of the three genesis operators is two: the other two suffice.
    EXPECT_EQ(v_.genesis_signers_needed(), 2);
    auto by_genesis = create_revocation(web_.genesis.network, g1, "key lost", t0, {&g[1], &g[2]});
    ASSERT_FALSE(v_.apply_revocation(by_genesis, t0));
    EXPECT_TRUE(v_.is_revoked(g1));
    // One genesis signature is not a majority.
    auto one = create_revocation(web_.genesis.network, operator_id_of(g[1].public_key()), "x", t0,
                                 {&g[2]});
    EXPECT_EQ(v_.validate_revocation(one, t0), errc::insufficient_signatures);
}

TEST(ValidatorStorage, EndorsementsNotVerifiedOnArrivalNeverCountLater) {
    // Four genesis operators. M's certificate carries three genuine endorsements and a forged one
    // "by" the fourth, dated in the future: at arrival it is skipped, not verified.
    TestWeb four(4);
    TrustValidator v(four.genesis);
    const auto& g = four.genesis_keys;
    const auto m = key(10);
    auto cert = four.certificate(m, {&g[0], &g[1], &g[2]});
    auto forged = create_endorsement(key(77), cert.public_key, t0 + 3600);
    forged.endorser = g[3].public_key();
    cert.endorsements.push_back(forged);
    ASSERT_FALSE(v.add_certificate(cert, t0));
    // An hour later the forgery's date has passed; then g0 is revoked. M stood on g0, g1, g2:
    // only two genuine endorsements are left, and the forged one must not stand in.
    ASSERT_FALSE(v.apply_revocation(
        create_revocation(four.genesis.network, operator_id_of(g[0].public_key()), "r", t0,
                          {&g[1], &g[2], &g[3]}),
        t0));
    EXPECT_EQ(v.operator_depth(cert.operator_id, t0 + 7200).error(),
              errc::insufficient_endorsements);
}

TEST(RevocationShares, CombineAndRejectMismatches) {
    TestWeb web;
    const auto id = operator_id_of(key(10).public_key());
    std::vector<RevocationShare> shares;
    for (const auto& k : web.genesis_keys) {
        RevocationShare s{web.genesis.network, id, "spam", t0, sign_revocation(k, id, t0, "spam")};
        auto back = parse_revocation_share(encode_revocation_share(s));
        ASSERT_TRUE(back.has_value());
        shares.push_back(*back);
    }
    auto combined = combine_revocation_shares(shares);
    ASSERT_TRUE(combined.has_value());
    TrustValidator v(web.genesis);
    EXPECT_FALSE(v.validate_revocation(*combined, t0));

    shares[1].reason = "other";
    EXPECT_EQ(combine_revocation_shares(shares).error(), errc::value_out_of_range);
    EXPECT_EQ(combine_revocation_shares({}).error(), errc::insufficient_signatures);

    auto text = nlohmann::json::parse(encode_revocation_share(shares[0]));
    text["reason"] = "changed after signing";
    EXPECT_EQ(parse_revocation_share(text.dump()).error(), errc::bad_signature);
    text["reason"] = "bell\a";
    EXPECT_EQ(parse_revocation_share(text.dump()).error(), errc::value_out_of_range);
}

// ---- records -----------------------------------------------------------------------------------

TEST(CertificateRecords, RoundTripThroughSignedRecords) {
    TestWeb web;
    const auto newcomer = key(10);
    auto cert = web.certificate(newcomer, web.genesis_signers(3));
    auto record = web.cert_record(cert, newcomer);
    auto decoded = wire::decode_record(wire::encode_record(record));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->key, prefix_key("cert", cert.operator_id));
    auto back = certificate_from_record(*decoded);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->endorsements.size(), 3u);
    EXPECT_EQ(back->label, cert.label);
    EXPECT_FALSE(TrustValidator(web.genesis).validate_certificate(*back, t0));

    // Only the certified key may publish its certificate.
    EXPECT_EQ(sign_certificate(cert, key(11)).error(), errc::public_key_mismatch);
    auto by_other = wire::sign_record(
        {wire::RecordKind::cert, 1, t0, t0 + 3600, certificate_payload(cert)}, key(11));
    ASSERT_TRUE(by_other.has_value());
    EXPECT_EQ(certificate_from_record(*by_other).error(), errc::public_key_mismatch);

    auto agent = web.agent_record(newcomer, key(20), 2);
    EXPECT_EQ(agent.key, prefix_key("agent", cert.operator_id));
    auto ac = agent_certificate_from_record(agent);
    ASSERT_TRUE(ac.has_value());
    EXPECT_EQ(ac->agent_key, key(20).public_key());
    EXPECT_EQ(ac->agent_index, 2);

    auto rev = web.revocation_record(cert.operator_id, web.genesis_signers(3));
    EXPECT_EQ(rev.key, prefix_key("revocation", cert.operator_id));
    EXPECT_TRUE(revocation_from_record(rev).has_value());
    // The author of a revocation record must be one of its signers.
    auto foreign = wire::sign_record(
        {wire::RecordKind::revocation, 1, t0, t0 + 3600,
         revocation_payload(create_revocation(web.genesis.network, cert.operator_id, "r", t0,
                                              web.genesis_signers(3)))},
        key(30));
    ASSERT_TRUE(foreign.has_value());
    EXPECT_EQ(revocation_from_record(*foreign).error(), errc::public_key_mismatch);
}

}  // namespace
}  // namespace nocturne::trust
