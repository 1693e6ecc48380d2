#include <nocturne/dht/ip_group.hpp>

#include <gtest/gtest.h>

#include <string>

namespace nocturne::dht {
namespace {

IpGroup v4(std::uint8_t a, std::uint8_t b, std::uint8_t c) {
    IpGroup g;
    g.family = IpGroup::Family::v4;
    g.prefix = {a, b, c, 0, 0, 0, 0, 0};
    return g;
}

TEST(AddressHost, ExtractsHostFromUrls) {
    EXPECT_EQ(address_host("ws://127.0.0.1:9090"), "127.0.0.1");
    EXPECT_EQ(address_host("wss://host.example:9090/dht?x=1"), "host.example");
    EXPECT_EQ(address_host("ws://[::1]:9090"), "::1");
    EXPECT_EQ(address_host("ws://[fe80::1%eth0]:9090/"), "fe80::1");
    EXPECT_EQ(address_host("ws://user:pw@10.0.0.1:80"), "10.0.0.1");
    EXPECT_EQ(address_host("ws://10.0.0.1"), "10.0.0.1");
    EXPECT_EQ(address_host("10.0.0.1:9090"), "10.0.0.1");
    EXPECT_EQ(address_host("ws://[2001:db8::1]"), "2001:db8::1");
}

TEST(AddressHost, MalformedHasNoHost) {
    for (const char* bad : {"", "ws://", "ws://:9090", "ws://[::1", "ws://[]:9090", "ws://::1:9090",
                            "ws:///path", "ws://@"}) {
        EXPECT_EQ(address_host(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(address_host("garbage"), "garbage");  // a plausible host name
}

TEST(IpGroupOf, Ipv4GroupsBySlash24) {
    EXPECT_EQ(ip_group_of("ws://1.2.3.4:9090"), v4(1, 2, 3));
    EXPECT_EQ(ip_group_of("ws://1.2.3.200:1"), ip_group_of("wss://1.2.3.4:2/x"));
    EXPECT_NE(ip_group_of("ws://1.2.3.4:9090"), ip_group_of("ws://1.2.4.4:9090"));
}

TEST(IpGroupOf, Ipv6GroupsBySlash64) {
    const auto a = ip_group_of("ws://[2001:db8:1:2::1]:9090");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->family, IpGroup::Family::v6);
    EXPECT_EQ(a, ip_group_of("ws://[2001:db8:1:2:ffff::9]:1"));
    EXPECT_NE(a, ip_group_of("ws://[2001:db8:1:3::1]:9090"));
}

TEST(IpGroupOf, MappedIpv4GroupsAsIpv4) {
    EXPECT_EQ(ip_group_of("ws://[::ffff:1.2.3.4]:9090"), v4(1, 2, 3));
    EXPECT_EQ(ip_group_of("ws://[::ffff:127.0.0.1]:9090"), v4(127, 0, 0));
    EXPECT_EQ(ip_group_of("ws://[::ffff:127.0.0.1]:9090", true), std::nullopt);
}

TEST(IpGroupOf, HostNamesAndMalformedAreExemptLoopbackOnlyWhenSaid) {
    for (const char* exempt : {"ws://localhost:9090", "ws://host.example:9090", "garbage", "",
                               "ws://", "ws://[::1", "ws://1.2.3.4.5:9090", "ws://256.1.1.1:1"}) {
        EXPECT_EQ(ip_group_of(exempt), std::nullopt) << exempt;
    }
    // Loopback is a network like any other (one host can mint many ids), unless a test mesh on
    // one host says otherwise.
    EXPECT_EQ(ip_group_of("ws://127.0.0.1:9090"), v4(127, 0, 0));
    EXPECT_EQ(ip_group_of("ws://127.0.0.1:9090"), ip_group_of("ws://127.0.0.5:1"));
    EXPECT_TRUE(ip_group_of("ws://[::1]:9090").has_value());
    for (const char* loopback : {"ws://127.0.0.1:9090", "ws://127.255.1.2:1", "ws://[::1]:9090"}) {
        EXPECT_EQ(ip_group_of(loopback, true), std::nullopt) << loopback;
    }
    EXPECT_EQ(ip_group_of("ws://" + std::string(100'000, '1') + ":9090"), std::nullopt);
    EXPECT_EQ(ip_group_of(std::string(100'000, '[')), std::nullopt);
    EXPECT_EQ(ip_group_of(std::string("ws://1.2.3.4\0:9090", 18)), std::nullopt);
}

}  // namespace
}  // namespace nocturne::dht
