#include <nocturne/core/hex.hpp>

#include <gtest/gtest.h>

namespace nocturne {
namespace {

TEST(Hex, EncodesLowerCase) {
    const bytes data{0x00, 0x01, 0xab, 0xff};
    EXPECT_EQ(to_hex(data), "0001abff");
    EXPECT_EQ(to_hex(bytes{}), "");
}

TEST(Hex, DecodesEitherCase) {
    EXPECT_EQ(from_hex("0001ABff").value(), (bytes{0x00, 0x01, 0xab, 0xff}));
    EXPECT_TRUE(from_hex("").value().empty());
}

TEST(Hex, RejectsBadInput) {
    EXPECT_EQ(from_hex("abc").error(), errc::bad_hex);   // odd length
    EXPECT_EQ(from_hex("zz").error(), errc::bad_hex);    // not a digit
    EXPECT_EQ(from_hex("0x12").error(), errc::bad_hex);  // no prefixes
    EXPECT_EQ(from_hex(" 12 ").error(), errc::bad_hex);  // no whitespace
    EXPECT_EQ(from_hex(std::string("1\0", 2)).error(), errc::bad_hex);
}

TEST(Hex, LowerCaseOfExactlyNBytesIsTheOneSpellingPayloadsUse) {
    EXPECT_TRUE(is_lower_hex(std::string(64, 'a'), 32));
    EXPECT_TRUE(is_lower_hex("0f9e", 2));
    EXPECT_FALSE(is_lower_hex(std::string(64, 'A'), 32));
    EXPECT_FALSE(is_lower_hex(std::string(62, 'a'), 32));
    EXPECT_FALSE(is_lower_hex("0g", 1));
    EXPECT_TRUE(is_lower_hex("", 0));
}

TEST(Hex, FixedLength) {
    EXPECT_EQ((from_hex_fixed<2>("beef").value()), (std::array<std::uint8_t, 2>{0xbe, 0xef}));
    EXPECT_EQ(from_hex_fixed<2>("be").error(), errc::bad_length);
    EXPECT_EQ(from_hex_fixed<2>("beefbe").error(), errc::bad_length);
    EXPECT_EQ(from_hex_fixed<2>("bexf").error(), errc::bad_hex);
    EXPECT_EQ(from_hex_fixed<2>("bex").error(), errc::bad_hex);  // bad digits win over length
}

TEST(ErrorCodes, HaveStableNamesAndMessages) {
    const std::error_code ec = errc::bad_signature;
    EXPECT_EQ(ec.category().name(), std::string("nocturne"));
    EXPECT_EQ(ec.message(), "signature verification failed");
    EXPECT_STREQ(errc_name(errc::bad_signature), "bad_signature");
    EXPECT_STREQ(errc_name(errc::seq_conflict), "seq_conflict");
    EXPECT_TRUE(ec == errc::bad_signature);
}

}  // namespace
}  // namespace nocturne
