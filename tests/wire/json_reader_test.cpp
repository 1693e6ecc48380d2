#include <nocturne/wire/json_reader.hpp>

#include <gtest/gtest.h>

namespace nocturne::wire {
namespace {

TEST(JsonReader, DepthIgnoresBracketsInStrings) {
    EXPECT_EQ(json_depth(R"({"a":[1,{"b":2}]})", 100), 3u);
    EXPECT_EQ(json_depth(R"({"a":"[[[[{{{{"})", 100), 1u);
    EXPECT_EQ(json_depth(R"({"a":"\"[[[["})", 100), 1u);
    EXPECT_EQ(json_depth("", 100), 0u);
    EXPECT_EQ(json_depth(std::string(1'000'000, '['), 16), 17u);  // stops early
}

TEST(JsonReader, ParseRejectsOversizeDeepAndMalformed) {
    EXPECT_EQ(parse_json("[1]", 2, 16).error(), errc::frame_too_large);
    EXPECT_EQ(parse_json("[[[1]]]", 100, 2).error(), errc::too_deep);
    EXPECT_EQ(parse_json("{\"a\":}", 100, 16).error(), errc::malformed_json);
    EXPECT_EQ(parse_json("{} {}", 100, 16).error(), errc::malformed_json);
    EXPECT_EQ(parse_json("/* c */ {}", 100, 16).error(), errc::malformed_json);
    EXPECT_TRUE(parse_json("{\"a\":[1,2]}", 100, 16).has_value());
}

TEST(JsonReader, ReadsFieldsAndReportsFirstError) {
    const auto j = nlohmann::json::parse(
        R"({"s":"hi","n":5,"big":18446744073709551615,"f":0.5,"b":true,"o":{},"a":[1,2]})");
    ObjectReader r(j);
    EXPECT_EQ(r.string("s", 10), "hi");
    EXPECT_EQ(r.int64("n", 0, 10), 5);
    EXPECT_DOUBLE_EQ(r.number("f", 0, 1), 0.5);
    EXPECT_TRUE(r.boolean("b"));
    EXPECT_NE(r.object("o"), nullptr);
    EXPECT_NE(r.array("a", 2), nullptr);
    EXPECT_FALSE(r.error());
    EXPECT_EQ(r.finish(), errc::unknown_field);  // "big" was never read

    ObjectReader r2(j);
    EXPECT_EQ(r2.int64("big", 0, INT64_MAX), 0);
    EXPECT_EQ(r2.error(), errc::value_out_of_range);
    (void)r2.string("missing", 10);  // no-op after the first error
    EXPECT_EQ(r2.error(), errc::value_out_of_range);

    ObjectReader r3(j);
    (void)r3.string("s", 1);
    EXPECT_EQ(r3.error(), errc::value_out_of_range);
    ObjectReader r4(j);
    (void)r4.array("a", 1);
    EXPECT_EQ(r4.error(), errc::value_out_of_range);
    ObjectReader r5(j);
    (void)r5.string("n", 10);
    EXPECT_EQ(r5.error(), errc::wrong_type);
    ObjectReader r6(j);
    EXPECT_FALSE(r6.optional_string("nope", 10).has_value());
    EXPECT_FALSE(r6.error());
    ObjectReader r7(nlohmann::json::array());
    EXPECT_EQ(r7.error(), errc::wrong_type);
}

TEST(JsonReader, CompactOutputNeverThrows) {
    nlohmann::json j = std::string("\xff\xfe bad utf8");
    EXPECT_NO_THROW((void)to_compact_json(j));
}

}  // namespace
}  // namespace nocturne::wire
