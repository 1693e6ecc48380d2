#include <nocturne/core/hex.hpp>
#include <nocturne/trust/endorsement.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "trust_test_util.hpp"

namespace nocturne::trust {
namespace {

using test::key;

TEST(Endorsement, MessageFormatIsThePlans) {
    const auto subject = key(7).public_key();
    EXPECT_EQ(endorsement_message(subject, 1739635200),
              "ENDORSE:" + to_hex(subject) + ":1739635200");
}

TEST(Endorsement, CreateAndVerify) {
    const auto endorser = key(1);
    const auto subject = key(7);
    auto e = create_endorsement(endorser, subject.public_key(), 1739635200);
    EXPECT_NE(e.sig, crypto::Signature{});
    EXPECT_FALSE(verify_endorsement(e, endorser.public_key(), subject.public_key()));
}

TEST(Endorsement, RejectsWrongEndorserOtherSubjectAndTampering) {
    const auto endorser = key(1);
    const auto subject = key(7);
    auto e = create_endorsement(endorser, subject.public_key(), 1739635200);
    EXPECT_EQ(verify_endorsement(e, key(2).public_key(), subject.public_key()),
              errc::public_key_mismatch);
    EXPECT_EQ(verify_endorsement(e, endorser.public_key(), key(8).public_key()),
              errc::wrong_subject);
    auto forged = e;
    forged.endorser = key(2).public_key();  // claims another endorser, keeps the signature
    EXPECT_EQ(verify_endorsement(forged, key(2).public_key(), subject.public_key()),
              errc::bad_signature);
    auto retimed = e;
    retimed.timestamp += 1;
    EXPECT_EQ(verify_endorsement(retimed, endorser.public_key(), subject.public_key()),
              errc::bad_signature);
}

TEST(Endorsement, FileRoundTripAndRejections) {
    auto e = create_endorsement(key(1), key(7).public_key(), 1739635200);
    const auto text = encode_endorsement_file(e);
    auto back = parse_endorsement_file(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->endorser, e.endorser);
    EXPECT_EQ(back->subject, e.subject);
    EXPECT_EQ(back->timestamp, e.timestamp);

    auto j = nlohmann::json::parse(text);
    auto with = [&](auto change) {
        auto copy = j;
        change(copy);
        auto r = parse_endorsement_file(copy.dump());
        return r ? std::error_code{} : r.error().code();
    };
    EXPECT_EQ(with([&](auto& c) { c["operator"] = to_hex(key(8).public_key()); }),
              errc::bad_signature);
    EXPECT_EQ(with([&](auto& c) { c["timestamp"] = 1; }), errc::bad_signature);
    EXPECT_EQ(with([&](auto& c) { c["type"] = "something-else"; }), errc::value_out_of_range);
    EXPECT_EQ(with([&](auto& c) { c["extra"] = true; }), errc::unknown_field);
    EXPECT_EQ(with([&](auto& c) { c["sig"] = std::string(128, 'z'); }), errc::bad_hex);
    EXPECT_EQ(parse_endorsement_file("").error(), errc::malformed_json);
}

}  // namespace
}  // namespace nocturne::trust
