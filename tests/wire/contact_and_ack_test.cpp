// What peers may pass each other as addresses, and store acknowledgements.

#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/payloads.hpp>

#include <gtest/gtest.h>

#include "wire_test_util.hpp"

namespace nocturne::wire {
namespace {

TEST(ContactAddress, OnlyWsOrWssAtAnIpAddressAndAPort) {
    for (const char* ok : {"ws://1.2.3.4:9090", "wss://10.0.0.1:443", "ws://[::1]:1",
                           "ws://[2001:db8::7]:65535", "ws://[::ffff:1.2.3.4]:9"}) {
        EXPECT_TRUE(is_contact_address(ok)) << ok;
    }
    for (const char* bad :
         {"ws://host.example:9090", "ws://localhost:1", "ws://1.2.3.4:9090/path", "ws://1.2.3.4",
          "ws://1.2.3.4:0", "ws://1.2.3.4:65536", "ws://1.2.3.4:09", "ws://u@1.2.3.4:1",
          "http://1.2.3.4:1", "ws://1.2.3:1", "ws://1.2.3.256:1", "ws://01.2.3.4:1", "ws://[::1]",
          "ws://[::1]:1/x", "ws://[zz::1]:1", "ws://1.2.3.4:1?x", ""}) {
        EXPECT_FALSE(is_contact_address(bad)) << bad;
    }
}

TEST(ContactAddress, AnAnswerReferringToAHostNameOrAPathIsRefused) {
    const auto keys = crypto::KeyPair::from_seed(crypto::Seed{4});
    const NodeId id = keys.node_id();
    for (const char* address : {"ws://evil.example:80", "ws://10.0.0.1:80/admin?x=1"}) {
        EnvelopeDraft d;
        d.id = std::string(32, 'a');
        d.payload = Response{std::string(32, 'b'), NodesResult{{{id, address}}}};
        auto frame = encode_message(d);
        ASSERT_TRUE(frame.has_value());
        EXPECT_EQ(decode_message(*frame).error(), errc::value_out_of_range) << address;
    }
}

TEST(StoreAck, AnAcknowledgementNamesOneRecordVersionAndOneNode) {
    const auto author = crypto::KeyPair::from_seed(crypto::Seed{1});
    const auto holder = crypto::KeyPair::from_seed(crypto::Seed{2});
    const auto other = crypto::KeyPair::from_seed(crypto::Seed{3});
    const auto v1 = sign_record(test::knowledge_draft("e", 1), author).value();
    const auto v2 = sign_record(test::knowledge_draft("e", 2), author).value();
    const auto ack = sign_store_ack(v1, holder);
    EXPECT_TRUE(verify_store_ack(ack, v1, holder.node_id()));
    EXPECT_FALSE(verify_store_ack(ack, v2, holder.node_id())) << "another version";
    EXPECT_FALSE(verify_store_ack(ack, v1, other.node_id())) << "another node's claim";
    auto forged = ack;
    forged.sig[0] ^= 1;
    EXPECT_FALSE(verify_store_ack(forged, v1, holder.node_id()));

    // It travels in a STORE answer.
    EnvelopeDraft d;
    d.id = std::string(32, 'a');
    d.payload = Response{std::string(32, 'b'), StoreResult{true, errc::ok, ack}};
    auto env = decode_message(encode_message(d).value());
    ASSERT_TRUE(env.has_value());
    const auto& result = std::get<StoreResult>(std::get<Response>(env->payload).result);
    ASSERT_TRUE(result.ack.has_value());
    EXPECT_TRUE(verify_store_ack(*result.ack, v1, holder.node_id()));
}

}  // namespace
}  // namespace nocturne::wire
