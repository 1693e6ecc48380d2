#include <nocturne/core/hex.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/record.hpp>

#include <gtest/gtest.h>

#include "wire/wire_test_util.hpp"

namespace nocturne::wire {
namespace {

using test::knowledge_draft;
using test::open_frame;
using test::resigned;
using test::t0;
using test::with_body_keep_sig;

class RecordTest : public ::testing::Test {
protected:
    crypto::KeyPair author_ = crypto::KeyPair::generate();

    Record sign(const RecordDraft& d) {
        auto r = sign_record(d, author_);
        EXPECT_TRUE(r.has_value()) << r.error().message();
        return r ? std::move(*r) : Record{};
    }
    RecordDraft draft(RecordKind kind, nlohmann::json payload) const {
        return {kind, 1, t0, t0 + 3600, payload.dump()};
    }
};

TEST_F(RecordTest, SignedRecordRoundTrips) {
    const auto r = sign(knowledge_draft());
    EXPECT_EQ(r.key, content_key("go/concurrency", "entry-1"));
    EXPECT_EQ(r.author, author_.public_key());
    auto decoded = decode_record(encode_record(r));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
    EXPECT_EQ(decoded->key, r.key);
    EXPECT_EQ(decoded->kind, RecordKind::knowledge);
    EXPECT_EQ(decoded->author, r.author);
    EXPECT_EQ(decoded->seq, 1u);
    EXPECT_EQ(decoded->created, t0);
    EXPECT_EQ(decoded->expires, t0 + 3600);
    EXPECT_EQ(nlohmann::json::parse(decoded->payload)["title"], "Channels");
    EXPECT_EQ(decoded->body, r.body);
    EXPECT_EQ(decoded->sig, r.sig);
    EXPECT_TRUE(decoded->slot.empty());
    EXPECT_TRUE(decoded->same_identity(r));
}

TEST_F(RecordTest, KeyDerivationPerKind) {
    const std::string hex_key(64, 'a');
    struct Case {
        RecordKind kind;
        nlohmann::json payload;
        NodeId key;
        std::string slot;
    };
    const std::vector<Case> cases = {
        {RecordKind::knowledge, {{"domain", "rust"}, {"id", "e1"}}, content_key("rust", "e1"), ""},
        {RecordKind::domain_announce,
         {{"domain", "rust"}, {"entry_id", "e1"}},
         domain_index_key("rust"),
         "e1"},
        {RecordKind::cert, {{"operator_id", "op1"}}, prefix_key("cert", "op1"), ""},
        {RecordKind::revocation, {{"operator_id", "op1"}}, prefix_key("revocation", "op1"), ""},
        {RecordKind::agent_cert,
         {{"operator_id", "op1"}, {"agent_index", 2}},
         prefix_key("agent", "op1"),
         "2"},
        {RecordKind::vote,
         {{"entry_key", hex_key}, {"phase", "commit"}},
         prefix_key("vote", hex_key),
         "commit"},
        {RecordKind::task, {{"part", "claim"}, {"id", "t1"}}, prefix_key("task", "t1"), "claim"},
        {RecordKind::task,
         {{"part", "task"}, {"id", "t1"}, {"domain", "go"}},
         prefix_key("task_index", "go"),
         "t1"},
        {RecordKind::awareness, {{"id", "latest"}}, prefix_key("awareness", "latest"), ""},
        {RecordKind::quarantine,
         {{"operator_id", "op1"}, {"action", "lift"}},
         prefix_key("quarantine", "op1"),
         "lift"},
        {RecordKind::anomaly, {{"operator_id", "op1"}}, prefix_key("anomaly", "op1"), ""},
    };
    for (const auto& c : cases) {
        const auto r = sign(draft(c.kind, c.payload));
        EXPECT_EQ(r.key, c.key) << to_string(c.kind);
        EXPECT_EQ(r.slot, c.slot) << to_string(c.kind);
        auto back = decode_record(encode_record(r));
        ASSERT_TRUE(back.has_value()) << to_string(c.kind);
        EXPECT_EQ(back->kind, c.kind);
        EXPECT_EQ(record_kind_from_string(to_string(c.kind)).value(), c.kind);
    }
    EXPECT_EQ(record_kind_from_string("blob").error(), errc::unknown_record_kind);
}

TEST_F(RecordTest, DerivationInputsAreValidated) {
    auto fails = [&](RecordKind kind, nlohmann::json payload) {
        auto r = sign_record(draft(kind, payload), author_);
        return r ? std::error_code{} : r.error().code();
    };
    EXPECT_EQ(fails(RecordKind::knowledge, {{"domain", "a:b"}, {"id", "x"}}),
              errc::value_out_of_range);  // ':' would make content keys ambiguous
    EXPECT_EQ(fails(RecordKind::knowledge, {{"domain", ""}, {"id", "x"}}),
              errc::value_out_of_range);
    // A domain named like a key prefix would put a knowledge entry on another kind's key.
    for (const auto prefix : key_prefix::all) {
        EXPECT_EQ(fails(RecordKind::knowledge, {{"domain", prefix}, {"id", "op-1"}}),
                  errc::value_out_of_range)
            << prefix;
    }
    EXPECT_EQ(domain_index_key("x"), prefix_key(key_prefix::domain_index, "x"));
    EXPECT_EQ(fails(RecordKind::knowledge, {{"domain", "d"}}), errc::missing_field);
    EXPECT_EQ(fails(RecordKind::knowledge, {{"domain", "d"}, {"id", 5}}), errc::wrong_type);
    EXPECT_EQ(fails(RecordKind::agent_cert, {{"operator_id", "op1"}, {"agent_index", -1}}),
              errc::value_out_of_range);
    EXPECT_EQ(fails(RecordKind::agent_cert, {{"operator_id", "op1"}, {"agent_index", 64}}),
              errc::value_out_of_range);
    EXPECT_EQ(fails(RecordKind::agent_cert, {{"operator_id", "op1"}, {"agent_index", "1"}}),
              errc::wrong_type);
    EXPECT_EQ(fails(RecordKind::agent_cert, {{"operator_id", "op1"}}), errc::missing_field);
    EXPECT_EQ(fails(RecordKind::vote, {{"entry_key", "abc"}, {"phase", "commit"}}),
              errc::value_out_of_range);
    EXPECT_EQ(fails(RecordKind::vote, {{"entry_key", std::string(64, 'A')}, {"phase", "commit"}}),
              errc::value_out_of_range);  // one spelling per key: lower-case hex only
    EXPECT_EQ(fails(RecordKind::vote, {{"entry_key", std::string(64, 'a')}, {"phase", "x"}}),
              errc::value_out_of_range);
    EXPECT_EQ(fails(RecordKind::task, {{"part", "claim"}, {"id", std::string(200, 'a')}}),
              errc::value_out_of_range);
    EXPECT_EQ(fails(RecordKind::task, {{"part", "other"}, {"id", "t1"}}), errc::value_out_of_range);
    EXPECT_EQ(fails(RecordKind::task, {{"part", "task"}, {"id", "t1"}}), errc::missing_field);
    auto r = sign_record({RecordKind::knowledge, 1, t0, t0 + 1, "[1,2]"}, author_);
    EXPECT_EQ(r.error(), errc::wrong_type);
    r = sign_record({RecordKind::knowledge, 1, t0, t0 + 1, "{oops"}, author_);
    EXPECT_EQ(r.error(), errc::malformed_json);
    auto big = knowledge_draft();
    big.seq = static_cast<std::uint64_t>(INT64_MAX) + 1;
    EXPECT_EQ(sign_record(big, author_).error(), errc::value_out_of_range);
}

TEST_F(RecordTest, TamperingFailsVerification) {
    const auto original = open_frame(encode_record(sign(knowledge_draft())));
    const std::vector<std::function<void(nlohmann::json&)>> edits = {
        [](auto& b) { b["seq"] = 99; },         [](auto& b) { b["expires"] = t0 + 7200; },
        [](auto& b) { b["created"] = t0 - 1; }, [](auto& b) { b["payload"]["title"] = "Mutexes"; },
        [](auto& b) { b["kind"] = "task"; },    [](auto& b) { b["key"] = std::string(64, '0'); },
    };
    for (const auto& edit : edits) {
        auto body = original.body;
        edit(body);
        EXPECT_EQ(decode_record(with_body_keep_sig(original, body)).error(), errc::bad_signature);
    }
}

TEST_F(RecordTest, AuthorMustSignAndKeyMustMatchPayload) {
    const auto original = open_frame(encode_record(sign(knowledge_draft())));
    const auto mallory = crypto::KeyPair::generate();
    EXPECT_EQ(decode_record(resigned(record_domain, original.body, mallory)).error(),
              errc::public_key_mismatch);
    auto body = original.body;
    body["key"] = content_key("go/concurrency", "other").to_hex();
    EXPECT_EQ(decode_record(resigned(record_domain, body, author_)).error(), errc::key_mismatch);
    body = original.body;
    body["kind"] = "cert";
    EXPECT_EQ(decode_record(resigned(record_domain, body, author_)).error(), errc::missing_field);
    body = original.body;
    body["kind"] = "blob";
    EXPECT_EQ(decode_record(resigned(record_domain, body, author_)).error(),
              errc::unknown_record_kind);
    body = original.body;
    body["v"] = 7;
    EXPECT_EQ(decode_record(resigned(record_domain, body, author_)).error(), errc::unknown_version);
    body = original.body;
    body["seq"] = -1;
    EXPECT_EQ(decode_record(resigned(record_domain, body, author_)).error(),
              errc::value_out_of_range);
    body = original.body;
    body["owner"] = "me";
    EXPECT_EQ(decode_record(resigned(record_domain, body, author_)).error(), errc::unknown_field);
    // A handshake signature never verifies as a record.
    EXPECT_EQ(decode_record(resigned("nocturne/handshake/v2", original.body, author_)).error(),
              errc::bad_signature);
}

TEST_F(RecordTest, SizeLimits) {
    auto d = knowledge_draft();
    d.payload =
        nlohmann::json{{"domain", "d"}, {"id", "x"}, {"content", std::string(70000, 'x')}}.dump();
    EXPECT_EQ(sign_record(d, author_).error(), errc::frame_too_large);
    d.payload =
        nlohmann::json{{"domain", "d"}, {"id", "x"}, {"content", std::string(65480, 'x')}}.dump();
    EXPECT_EQ(sign_record(d, author_).error(), errc::record_too_large);
    EXPECT_EQ(decode_record(std::string(70000, ' ')).error(), errc::record_too_large);
    EXPECT_EQ(decode_record(std::string(1000, '{')).error(), errc::too_deep);
}

TEST_F(RecordTest, TimeRules) {
    const auto r = sign(knowledge_draft());  // created t0, expires t0 + 3600
    EXPECT_FALSE(check_record_time(r, t0));
    EXPECT_FALSE(check_record_time(r, t0 + 3599));
    EXPECT_EQ(check_record_time(r, t0 + 3600), errc::record_expired);
    EXPECT_FALSE(check_record_time(r, t0 - 300));  // within clock skew
    EXPECT_EQ(check_record_time(r, t0 - 301), errc::created_in_future);

    auto zero = knowledge_draft();
    zero.expires = zero.created;
    EXPECT_EQ(check_record_time(sign(zero), t0), errc::ttl_out_of_range);
    auto too_long = knowledge_draft();
    too_long.expires = too_long.created + max_ttl_seconds(RecordKind::knowledge) + 1;
    EXPECT_EQ(check_record_time(sign(too_long), t0), errc::ttl_out_of_range);
    EXPECT_GT(max_ttl_seconds(RecordKind::revocation), max_ttl_seconds(RecordKind::cert));
}

}  // namespace
}  // namespace nocturne::wire
