#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/crypto/random.hpp>

#include <gtest/gtest.h>

namespace nocturne::crypto {
namespace {

TEST(Keys, SignAndVerify) {
    const auto keys = KeyPair::generate();
    const auto sig = keys.sign(as_bytes("hello"));
    EXPECT_TRUE(verify(keys.public_key(), as_bytes("hello"), sig));
}

TEST(Keys, VerifyRejectsTamperedMessageSignatureOrKey) {
    const auto keys = KeyPair::generate();
    const auto other = KeyPair::generate();
    auto sig = keys.sign(as_bytes("hello"));
    EXPECT_FALSE(verify(keys.public_key(), as_bytes("hellp"), sig));
    EXPECT_FALSE(verify(other.public_key(), as_bytes("hello"), sig));
    sig[5] ^= 0x01;
    EXPECT_FALSE(verify(keys.public_key(), as_bytes("hello"), sig));
}

TEST(Keys, RejectsAllZeroKeyAndSignature) {
    // A zero public key is a small-order point; libsodium must refuse it rather than accept
    // a forged all-zero signature.
    EXPECT_FALSE(verify(PublicKey{}, as_bytes("x"), Signature{}));
}

TEST(Keys, SeedIsDeterministic) {
    Seed seed{};
    seed[0] = 42;
    const auto a = KeyPair::from_seed(seed);
    const auto b = KeyPair::from_seed(seed);
    EXPECT_EQ(a.public_key(), b.public_key());
    EXPECT_EQ(a.seed(), seed);
    EXPECT_NE(KeyPair::generate().public_key(), a.public_key());
}

TEST(Keys, RfcTestVector) {
    // RFC 8032 section 7.1, TEST 1 (empty message).
    const auto seed =
        from_hex_fixed<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    const auto keys = KeyPair::from_seed(seed.value());
    EXPECT_EQ(to_hex(keys.public_key()),
              "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    EXPECT_EQ(to_hex(keys.sign({})),
              "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
              "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(Keys, MovedFromKeyIsWiped) {
    auto a = KeyPair::generate();
    const auto pub = a.public_key();
    KeyPair b = std::move(a);
    EXPECT_EQ(b.public_key(), pub);
    EXPECT_TRUE(verify(pub, as_bytes("m"), b.sign(as_bytes("m"))));
}

TEST(Keys, HexParsers) {
    const auto keys = KeyPair::generate();
    EXPECT_EQ(public_key_from_hex(to_hex(keys.public_key())).value(), keys.public_key());
    EXPECT_EQ(public_key_from_hex("abcd").error(), errc::bad_length);
    EXPECT_EQ(signature_from_hex(std::string(128, 'q')).error(), errc::bad_hex);
}

TEST(Random, NoncesDiffer) {
    EXPECT_NE(random_nonce(), random_nonce());
    const auto id = random_hex_id();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_NE(id, random_hex_id());
}

}  // namespace
}  // namespace nocturne::crypto
