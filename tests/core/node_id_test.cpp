#include <nocturne/core/hex.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/crypto/keys.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace nocturne {
namespace {

NodeId id_with(std::size_t index, std::uint8_t value) {
    NodeId id;
    id[index] = value;
    return id;
}

// Plan Task 1: TestNodeIDFromPublicKey.
TEST(NodeId, FromPublicKeyIsSha256OfKey) {
    const auto keys = crypto::KeyPair::generate();
    const auto id = NodeId::from_public_key(keys.public_key());
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id->bytes(), sha256(keys.public_key()));
    EXPECT_EQ(id->bytes().size(), 32u);
    EXPECT_EQ(*id, keys.node_id());
}

TEST(NodeId, FromPublicKeyRejectsWrongLength) {
    const bytes short_key(31, 0x01);
    EXPECT_EQ(NodeId::from_public_key(short_key).error(), errc::bad_length);
}

TEST(NodeId, KnownSha256Vector) {
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    EXPECT_EQ(to_hex(sha256(as_bytes("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Plan Task 1: TestXORDistance.
TEST(NodeId, XorDistance) {
    const auto d = xor_distance(id_with(0, 0xFF), id_with(0, 0x0F));
    EXPECT_EQ(d[0], 0xF0);
    for (std::size_t i = 1; i < NodeId::size; ++i) EXPECT_EQ(d[i], 0);
    EXPECT_TRUE(xor_distance(d, d).is_zero());
}

// Plan Task 1: TestDistanceLess.
TEST(NodeId, DistanceLess) {
    const NodeId target;
    const auto closer = id_with(31, 0x01);
    const auto farther = id_with(31, 0x02);
    EXPECT_TRUE(distance_less(target, closer, farther));
    EXPECT_FALSE(distance_less(target, farther, closer));
    EXPECT_FALSE(distance_less(target, closer, closer));  // strict
}

TEST(NodeId, DistanceLessAgreesWithXorOrder) {
    std::mt19937 rng(42);
    auto random_id = [&] {
        NodeId id;
        for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
        return id;
    };
    for (int i = 0; i < 1000; ++i) {
        const auto t = random_id(), a = random_id(), b = random_id();
        EXPECT_EQ(distance_less(t, a, b), xor_distance(t, a) < xor_distance(t, b));
    }
}

// Plan Task 1: TestBucketIndex.
TEST(NodeId, BucketIndex) {
    const NodeId self;
    EXPECT_EQ(bucket_index(self, id_with(0, 0x80)), 0u);
    EXPECT_EQ(bucket_index(self, id_with(0, 0x40)), 1u);
    EXPECT_EQ(bucket_index(self, id_with(1, 0x80)), 8u);
    EXPECT_EQ(bucket_index(self, id_with(31, 0x01)), 255u);
    EXPECT_EQ(bucket_index(self, self), 255u);  // same id: the plan's convention
    // Symmetric.
    EXPECT_EQ(bucket_index(id_with(5, 0x10), self), bucket_index(self, id_with(5, 0x10)));
}

// Plan Task 1: TestContentKey.
TEST(NodeId, ContentKeyIsDeterministicAndDistinct) {
    const auto key = content_key("go/concurrency", "entry-123");
    EXPECT_EQ(key, content_key("go/concurrency", "entry-123"));
    EXPECT_NE(key, content_key("go/concurrency", "entry-456"));
    EXPECT_NE(key, content_key("go/concurrency2", "entry-123"));
    EXPECT_EQ(key.bytes(), sha256(as_bytes("go/concurrency:entry-123")));
}

TEST(NodeId, DomainAndPrefixKeys) {
    EXPECT_EQ(domain_index_key("rust").bytes(), sha256(as_bytes("domain_index:rust")));
    EXPECT_EQ(prefix_key("cert", "op1").bytes(), sha256(as_bytes("cert:op1")));
    EXPECT_NE(prefix_key("cert", "op1"), prefix_key("revocation", "op1"));
    EXPECT_NE(domain_index_key("rust"), content_key("domain_index", "rust2"));
}

TEST(NodeId, HexRoundTripAndErrors) {
    const auto id = id_with(3, 0xAB);
    const auto text = id.to_hex();
    EXPECT_EQ(text.size(), 64u);
    EXPECT_EQ(NodeId::from_hex(text).value(), id);
    EXPECT_EQ(id.short_hex(), text.substr(0, 8));
    EXPECT_EQ(NodeId::from_hex(text.substr(2)).error(), errc::bad_length);
    EXPECT_EQ(NodeId::from_hex(text + "00").error(), errc::bad_length);
    auto bad = text;
    bad[10] = 'g';
    EXPECT_EQ(NodeId::from_hex(bad).error(), errc::bad_hex);
    EXPECT_EQ(NodeId::from_hex("").error(), errc::bad_length);
}

TEST(NodeId, HashSpreadsIds) {
    NodeIdHash h;
    EXPECT_NE(h(id_with(0, 1)), h(id_with(0, 2)));
}

}  // namespace
}  // namespace nocturne
