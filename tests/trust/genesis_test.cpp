#include <nocturne/core/hex.hpp>
#include <nocturne/trust/genesis.hpp>

#include <gtest/gtest.h>

#include "trust_test_util.hpp"

namespace nocturne::trust {
namespace {

TEST(Genesis, BuiltinGenesisIsValid) {
    auto g = parse_genesis(builtin_genesis_text());
    ASSERT_TRUE(g.has_value()) << g.error().message();
    EXPECT_EQ(g->version, 1);
    EXPECT_EQ(g->min_endorsements, 3);
    EXPECT_EQ(g->revocation_threshold, 3);
    EXPECT_EQ(g->max_depth, 3);
    EXPECT_EQ(g->network, "nocturne-main");
    EXPECT_GE(g->operators.size(), 3u);
}

TEST(Genesis, RoundTripsAndFindsOperators) {
    test::TestWeb web;
    auto back = parse_genesis(encode_genesis(web.genesis));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->operators.size(), 3u);
    ASSERT_NE(back->find(web.genesis_keys[1].public_key()), nullptr);
    EXPECT_EQ(back->find(web.genesis_keys[1].public_key())->label, "gen2");
    EXPECT_EQ(back->find(test::key(99).public_key()), nullptr);
}

TEST(Genesis, MalformedGenesisIsExplained) {
    test::TestWeb web;
    auto base = nlohmann::json::parse(encode_genesis(web.genesis));
    auto rejects = [](const nlohmann::json& j, const std::string& expect_in_why) {
        auto g = parse_genesis(j.dump());
        ASSERT_FALSE(g.has_value()) << j.dump();
        EXPECT_EQ(g.error(), errc::invalid_genesis);
        EXPECT_NE(g.error().message().find(expect_in_why), std::string::npos)
            << g.error().message();
    };
    {
        auto g = parse_genesis("{not json");
        ASSERT_FALSE(g.has_value());
        EXPECT_NE(g.error().message().find("not valid JSON"), std::string::npos);
    }
    auto j = base;
    j["surprise"] = 1;
    rejects(j, "bad top-level field (unknown_field)");
    j = base;
    j.erase("network");
    rejects(j, "missing_field");
    j = base;
    j["version"] = 2;
    rejects(j, "unsupported version");
    j = base;
    j["operators"][1]["public_key"] = j["operators"][0]["public_key"];
    rejects(j, "operators[1]: duplicate public_key");
    j = base;
    j["operators"][0]["public_key"] = "abcd";
    rejects(j, "operators[0]: bad field");
    j = base;
    j["operators"][2]["label"] = "tab\there";
    rejects(j, "label");
    j = base;
    j["min_endorsements"] = 4;
    rejects(j, "nobody could ever enroll");
    j = base;
    j["network"] = "has space";
    rejects(j, "network");
    j = base;
    j["bootstrap"] = {"http://seed:47100"};
    rejects(j, "bootstrap[0] must be a ws://host:port");
    j = base;
    j["bootstrap"] = {"ws://a:1", 7};
    rejects(j, "bootstrap[1]");
    j = base;
    j["bootstrap"] = nlohmann::json::array();
    for (int i = 0; i < 17; ++i) j["bootstrap"].push_back("ws://seed" + std::to_string(i) + ":1");
    rejects(j, "bootstrap (up to 16");
}

TEST(Genesis, BootstrapSeedsRoundTripWithoutChangingTheNetwork) {
    test::TestWeb web;
    auto seeded = web.genesis;
    seeded.bootstrap = {"ws://seed1.example:47100", "wss://seed2.example/mesh"};
    const auto text = encode_genesis(seeded);
    auto back = parse_genesis(text);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(back->bootstrap, seeded.bootstrap);
    // Seeds are hints: listing, adding or dropping one keeps the mesh the same mesh.
    EXPECT_EQ(network_id(*back), network_id(web.genesis));
    EXPECT_EQ(encode_genesis(web.genesis).find("bootstrap"), std::string::npos);
    // Anything else still makes another mesh.
    auto other = web.genesis;
    other.max_depth = 2;
    EXPECT_NE(network_id(other), network_id(web.genesis));
}

TEST(Genesis, OperatorIdIsHexSha256OfKey) {
    const auto k = test::key(1);
    EXPECT_EQ(operator_id_of(k.public_key()), k.node_id().to_hex());
    EXPECT_EQ(operator_id_of(k.public_key()).size(), 64u);
}

}  // namespace
}  // namespace nocturne::trust
