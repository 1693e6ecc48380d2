// Error codes: stable names that round-trip (they are the wire and API codes), a message for each,
// and Error carrying its detail with the code.

#include <nocturne/core/error.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace nocturne {
namespace {

TEST(ErrorCodes, EveryCodeHasAUniqueNameThatRoundTripsAndAMessage) {
    std::set<std::string> names;
    std::size_t codes = 0;
    for (int v = 0; v < 256; ++v) {
        const auto e = static_cast<errc>(v);
        const std::string name = errc_name(e);
        if (name == "unknown") continue;
        ++codes;
        EXPECT_TRUE(names.insert(name).second) << name;
        EXPECT_EQ(errc_from_name(name), e) << name;
        EXPECT_NE(make_error_code(e).message(), "unknown nocturne error") << name;
    }
    EXPECT_GE(codes, 70u);
    EXPECT_FALSE(errc_from_name("no_such_code").has_value());
    EXPECT_EQ(errc_of(std::make_error_code(std::errc::io_error), errc::store_error),
              errc::store_error);
    EXPECT_EQ(errc_of(make_error_code(errc::stale_seq), errc::store_error), errc::stale_seq);
}

TEST(ErrorCodes, AnErrorCarriesItsDetailWithItsCode) {
    const Error plain = errc::not_found;
    EXPECT_EQ(plain, errc::not_found);
    EXPECT_EQ(plain.message(), make_error_code(errc::not_found).message());
    EXPECT_STREQ(plain.name(), "not_found");

    const Error detailed(errc::value_out_of_range, "limit: must be 1..100");
    EXPECT_EQ(detailed, errc::value_out_of_range);
    EXPECT_EQ(detailed.message(), "limit: must be 1..100");
    const std::error_code as_code = detailed;
    EXPECT_EQ(as_code, errc::value_out_of_range);

    // Through a result, as functions return it.
    const result<int> r = Error(errc::timeout, "nobody answered in 5 s");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), errc::timeout);
    EXPECT_EQ(r.error().message(), "nobody answered in 5 s");
    EXPECT_THROW((void)r.value(), std::system_error);
}

}  // namespace
}  // namespace nocturne
