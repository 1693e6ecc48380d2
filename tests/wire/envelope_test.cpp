#include <nocturne/core/hex.hpp>
#include <nocturne/wire/envelope.hpp>

#include <gtest/gtest.h>

#include "wire/wire_test_util.hpp"

namespace nocturne::wire {
namespace {

class EnvelopeTest : public ::testing::Test {
protected:
    crypto::KeyPair keys_ = crypto::KeyPair::generate();

    EnvelopeDraft draft(Payload payload) const {
        EnvelopeDraft d;
        d.agent_id = "a1b2c3d4";
        d.operator_id = "op123456";
        d.address = "ws://127.0.0.1:9090";
        d.payload = std::move(payload);
        return d;
    }

    std::string frame(Payload payload) const {
        auto f = encode_message(draft(std::move(payload)));
        EXPECT_TRUE(f.has_value());
        return f ? *f : std::string{};
    }

    // A good PING's body, parsed, for editing.
    nlohmann::json good_body() const { return nlohmann::json::parse(frame(Ping{})); }
};

// Plan Task 3: TestMessageMarshalRoundTrip. (Its signing tests moved to the channel: messages
// travel sealed in the session's stream, crypto/channel_test.cpp, net/ws_transport_test.cpp.)
TEST_F(EnvelopeTest, PingRoundTrips) {
    auto env = decode_message(frame(Ping{}));
    ASSERT_TRUE(env.has_value()) << env.error().message();
    EXPECT_EQ(env->type, MessageType::ping);
    EXPECT_EQ(env->sender.address, "ws://127.0.0.1:9090");
    EXPECT_EQ(env->sender.agent_id, "a1b2c3d4");
    EXPECT_EQ(env->sender.operator_id, "op123456");
    // Who sent it is the session's peer, filled in by the session, never taken from the message.
    EXPECT_TRUE(env->sender.node_id.is_zero());
    EXPECT_EQ(env->id.size(), 32u);
    EXPECT_TRUE(std::holds_alternative<Ping>(env->payload));
}

TEST_F(EnvelopeTest, FreshIdsUnlessGiven) {
    EXPECT_NE(decode_message(frame(Ping{}))->id, decode_message(frame(Ping{}))->id);
    auto d = draft(Ping{});
    d.id = std::string(32, 'a');
    EXPECT_EQ(decode_message(*encode_message(d))->id, d.id);
    d.id = "not-hex";
    EXPECT_EQ(encode_message(d).error(), errc::value_out_of_range);
}

// Plan Task 3: TestFindNodePayload.
TEST_F(EnvelopeTest, FindNodePayload) {
    NodeId target;
    target[0] = 0xAB;
    auto env = decode_message(frame(FindNode{target}));
    ASSERT_TRUE(env.has_value());
    EXPECT_EQ(env->type, MessageType::find_node);
    EXPECT_EQ(std::get<FindNode>(env->payload).target, target);
}

// Plan Task 3: TestStorePayload (the key is the record's own).
TEST_F(EnvelopeTest, StorePayloadCarriesVerifiedRecord) {
    auto record = sign_record(test::knowledge_draft(), keys_);
    ASSERT_TRUE(record.has_value());
    auto env = decode_message(frame(Store{*record}));
    ASSERT_TRUE(env.has_value()) << env.error().message();
    const auto& got = std::get<Store>(env->payload).record;
    EXPECT_EQ(got.key, content_key("go/concurrency", "entry-1"));
    EXPECT_EQ(got.body, record->body);
    EXPECT_EQ(got.sig, record->sig);
}

TEST_F(EnvelopeTest, EveryPayloadTypeRoundTrips) {
    NodeId key;
    key[1] = 7;
    auto record = *sign_record(test::knowledge_draft(), keys_);
    auto cert = *sign_record(
        {RecordKind::cert, 1, test::t0, test::t0 + 60, R"({"operator_id":"op1","label":"x"})"},
        keys_);
    const std::string rid(32, 'b');
    Vote commit{key,          "commit", std::string(64, 'c'), std::nullopt, std::nullopt,
                std::nullopt, "op1"};
    Vote reveal{key,  "reveal", std::nullopt, 1, std::string("n0nce"), std::string("accurate"),
                "op1"};
    const std::vector<Payload> payloads = {
        Ping{},
        Pong{rid},
        FindNode{key},
        FindValue{key},
        FindValue{key, 128},
        Store{record},
        Store{record, {cert}},
        commit,
        reveal,
        Query{"go/concurrency", "channels select", 0.5, 20},
        Query{"go/concurrency", "", 0, 5,
              QueryPosition{1'250'000, 1'700'000'000, record.author, "e.1"}},
        Response{rid, NodesResult{{{key, "ws://10.0.0.1:9090"}}}},
        Response{rid, ValueResult{{record}, {}}},
        Response{rid, ValueResult{{record}, {}, {cert}}},
        Response{rid, ValueResult{{record}, {}, {cert}, 150}},
        Response{rid, ValueResult{{}, {{key, "wss://[2001:db8::1]:443"}}}},
        Response{rid, StoreResult{false, errc::stale_seq}},
        Response{rid, VoteResult{true, errc::ok}},
        Response{rid, QueryResult{{record, record}}},
        Response{rid, QueryResult{{record}, {cert}, true}},
        ErrorReply{rid, errc::bad_signature, "signature verification failed"},
        Gossip{{cert}},
        Gossip{{cert, cert}, {cert}},
        IHave{{key, key}},
        IWant{{key}},
        Sync{{SyncRange{"", 12, {1, 2, 3}}, SyncRange{"0a3", 0, {}}}},
        Response{rid, GossipAck{2, {}}},
        Response{rid, GossipAck{0, {key}}},
        Response{rid, ItemsResult{{cert}, {cert}}},
        Response{rid, SyncResult{{"0a"}, {key}, {SyncRange{"1f", 3, {9}}}, 4}},
    };
    for (const auto& p : payloads) {
        const auto f = frame(p);
        auto env = decode_message(f);
        ASSERT_TRUE(env.has_value()) << f << ": " << env.error().message();
        EXPECT_EQ(env->type, type_of(p));
        EXPECT_EQ(env->payload.index(), p.index());
        // Re-encoding the decoded payload yields the same body: nothing was lost or altered.
        auto again = draft(env->payload);
        again.id = env->id;
        EXPECT_EQ(*encode_message(again), f);
    }
}

TEST_F(EnvelopeTest, CredentialsAreCertificatesOnly) {
    auto record = *sign_record(test::knowledge_draft(), keys_);
    EXPECT_EQ(decode_message(frame(Store{record, {record}})).error(), errc::value_out_of_range);
    EXPECT_EQ(
        decode_message(frame(Response{std::string(32, 'b'), ValueResult{{record}, {}, {record}}}))
            .error(),
        errc::value_out_of_range);
}

TEST_F(EnvelopeTest, MessagesCarryNoSignatureAndNoClaimedIdentity) {
    const auto body = good_body();
    EXPECT_EQ(body["v"], 2);
    EXPECT_FALSE(body.contains("sig"));
    EXPECT_FALSE(body["sender"].contains("node_id"));
    EXPECT_FALSE(body["sender"].contains("public_key"));
    // A body that still claims one (version 1, a signed frame) is refused, not half-read.
    auto old = body;
    old["sender"]["node_id"] = keys_.node_id().to_hex();
    EXPECT_EQ(decode_message(old.dump()).error(), errc::unknown_field);
}

TEST_F(EnvelopeTest, MalformedMessagesGetClearErrors) {
    EXPECT_EQ(decode_message("").error(), errc::malformed_json);
    EXPECT_EQ(decode_message("{").error(), errc::malformed_json);
    EXPECT_EQ(decode_message("\xff\xfe").error(), errc::malformed_json);
    EXPECT_EQ(decode_message("[]").error(), errc::wrong_type);
    EXPECT_EQ(decode_message("{}").error(), errc::missing_field);
    EXPECT_EQ(decode_message("null").error(), errc::wrong_type);
    auto body_with = [&](auto edit) {
        auto b = good_body();
        edit(b);
        return decode_message(b.dump());
    };
    EXPECT_EQ(body_with([](auto& b) { b.erase("id"); }).error(), errc::missing_field);
    EXPECT_EQ(body_with([](auto& b) { b["v"] = "2"; }).error(), errc::wrong_type);
    EXPECT_EQ(body_with([](auto& b) { b["type"] = "SHOUT"; }).error(), errc::unknown_message_type);
    EXPECT_EQ(body_with([](auto& b) { b["v"] = 1; }).error(), errc::unknown_version);
    EXPECT_EQ(body_with([](auto& b) { b["id"] = "xyz"; }).error(), errc::value_out_of_range);
    EXPECT_EQ(body_with([](auto& b) { b["extra"] = true; }).error(), errc::unknown_field);
    EXPECT_EQ(body_with([](auto& b) { b["sender"]["address"] = "http://x"; }).error(),
              errc::value_out_of_range);
    EXPECT_EQ(body_with([](auto& b) { b["sender"]["agent_id"] = "has space"; }).error(),
              errc::value_out_of_range);
    EXPECT_EQ(body_with([](auto& b) { b["sender"].erase("address"); }).error(),
              errc::missing_field);
    EXPECT_EQ(body_with([](auto& b) { b["payload"] = "ping"; }).error(), errc::wrong_type);
    // The payload must match the declared type.
    EXPECT_EQ(body_with([](auto& b) { b["type"] = "FIND_NODE"; }).error(), errc::missing_field);
    EXPECT_EQ(body_with([](auto& b) { b["payload"]["junk"] = 1; }).error(), errc::unknown_field);
}

TEST_F(EnvelopeTest, PayloadValidation) {
    auto send = [&](const std::string& type, const nlohmann::json& payload) {
        auto b = good_body();
        b["type"] = type;
        b["payload"] = payload;
        return decode_message(b.dump());
    };
    const std::string key(64, 'a'), rid(32, 'a');
    EXPECT_TRUE(send("FIND_NODE", {{"target", key}}).has_value());
    EXPECT_EQ(send("FIND_NODE", {{"target", "aa"}}).error(), errc::bad_length);
    EXPECT_EQ(send("PONG", {{"in_reply_to", "short"}}).error(), errc::value_out_of_range);
    EXPECT_EQ(
        send("VOTE", {{"entry_key", key}, {"phase", "commit"}, {"operator_id", "op"}}).error(),
        errc::value_out_of_range);  // commit without commitment
    EXPECT_EQ(send("VOTE", {{"entry_key", key},
                            {"phase", "reveal"},
                            {"vote", 5},
                            {"nonce", "n"},
                            {"operator_id", "op"}})
                  .error(),
              errc::value_out_of_range);
    EXPECT_EQ(send("VOTE", {{"entry_key", key}, {"phase", "maybe"}, {"operator_id", "op"}}).error(),
              errc::value_out_of_range);
    EXPECT_EQ(send("QUERY", {{"domain", "d"}, {"limit", 0}}).error(), errc::value_out_of_range);
    EXPECT_EQ(send("QUERY", {{"domain", "d"}, {"min_confidence", 1.5}}).error(),
              errc::value_out_of_range);
    EXPECT_EQ(send("QUERY", {{"domain", "a:b"}}).error(), errc::value_out_of_range);
    EXPECT_EQ(send("QUERY", nlohmann::json::object()).error(), errc::missing_field);
    EXPECT_EQ(send("QUERY", {{"domain", "d"}, {"after", {{"score", 1}}}}).error(),
              errc::missing_field);
    EXPECT_TRUE(send("QUERY", {{"domain", "d"}}).has_value());
    EXPECT_EQ(send("RESPONSE", {{"in_reply_to", rid}, {"for", "DANCE"}}).error(),
              errc::unknown_message_type);
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 21; ++i) many.push_back({{"id", key}, {"address", "ws://h:1"}});
    EXPECT_EQ(
        send("RESPONSE", {{"in_reply_to", rid}, {"for", "FIND_NODE"}, {"peers", many}}).error(),
        errc::value_out_of_range);
    EXPECT_EQ(send("RESPONSE", {{"in_reply_to", rid},
                                {"for", "FIND_NODE"},
                                {"peers", {{{"id", key}, {"address", "ftp://h"}}}}})
                  .error(),
              errc::value_out_of_range);
    // Gossip: ids are 64 lower-case hex digits, range prefixes up to 16 hex digits.
    EXPECT_TRUE(send("IHAVE", {{"ids", {key}}}).has_value());
    EXPECT_EQ(send("IHAVE", {{"ids", {std::string(64, 'A')}}}).error(), errc::value_out_of_range);
    EXPECT_EQ(send("IWANT", {{"ids", {"ab"}}}).error(), errc::value_out_of_range);
    EXPECT_EQ(send("IWANT", {{"ids", {1}}}).error(), errc::value_out_of_range);
    const std::string fp(32, '0');
    EXPECT_TRUE(send("SYNC", {{"ranges", {{{"p", "0f"}, {"n", 1}, {"f", fp}}}}}).has_value());
    EXPECT_EQ(send("SYNC", {{"ranges", {{{"p", "0g"}, {"n", 1}, {"f", fp}}}}}).error(),
              errc::value_out_of_range);
    EXPECT_EQ(
        send("SYNC", {{"ranges", {{{"p", std::string(17, '0')}, {"n", 1}, {"f", fp}}}}}).error(),
        errc::value_out_of_range);
    EXPECT_EQ(send("SYNC", {{"ranges", {{{"p", "0"}, {"n", -1}, {"f", fp}}}}}).error(),
              errc::value_out_of_range);
    nlohmann::json ids = nlohmann::json::array();
    for (int i = 0; i < 2049; ++i) ids.push_back(key);
    EXPECT_EQ(send("IHAVE", {{"ids", ids}}).error(), errc::value_out_of_range);
    // GOSSIP credentials are certificates only, like a STORE's.
    auto knowledge =
        nlohmann::json::parse(encode_record(*sign_record(test::knowledge_draft(), keys_)));
    EXPECT_EQ(
        send("GOSSIP", {{"items", nlohmann::json::array()}, {"credentials", {knowledge}}}).error(),
        errc::value_out_of_range);
    // A STORE whose record is forged is refused as a whole.
    auto rec = nlohmann::json::parse(encode_record(*sign_record(test::knowledge_draft(), keys_)));
    rec["sig"] = std::string(128, '0');
    EXPECT_EQ(send("STORE", {{"record", rec}}).error(), errc::bad_signature);
}

TEST_F(EnvelopeTest, SizeAndDepthLimits) {
    Limits small;
    small.max_frame_bytes = 400;
    EXPECT_EQ(decode_message(frame(Query{"d", std::string(500, 'x'), 0, 10}), small).error(),
              errc::frame_too_large);
    EXPECT_EQ(encode_message(draft(Query{"d", std::string(500, 'x'), 0, 10}), small).error(),
              errc::frame_too_large);
    EXPECT_EQ(decode_message(std::string(100000, '[')).error(), errc::too_deep);
    EXPECT_EQ(decode_message(std::string(default_limits.max_frame_bytes + 1, ' ')).error(),
              errc::frame_too_large);
    // Brackets inside strings do not count as nesting.
    EXPECT_TRUE(decode_message(frame(Query{"d", std::string(100, '['), 0, 10})).has_value());
}

}  // namespace
}  // namespace nocturne::wire
