#include <nocturne/app/peer_snapshot.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace nocturne::app {
namespace {

TEST(PeerSnapshot, RoundTripsWithPrivateMode) {
    test::TempDir dir;
    NodeId a, b;
    a[0] = 1;
    b[0] = 2;
    const std::vector<wire::Contact> peers = {{a, "ws://127.0.0.1:9001"},
                                              {b, "wss://h.example:443/x"}};
    ASSERT_FALSE(save_peer_snapshot(dir / "peers.json", peers));
    EXPECT_EQ(load_peer_snapshot(dir / "peers.json").value(), peers);
    struct stat st {};
    ::stat((dir / "peers.json").c_str(), &st);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(dir / "peers.json.tmp"));
    // Overwrite replaces atomically.
    ASSERT_FALSE(save_peer_snapshot(dir / "peers.json", {}));
    EXPECT_TRUE(load_peer_snapshot(dir / "peers.json").value().empty());
}

TEST(PeerSnapshot, DamagedFilesAreErrorsNotGarbage) {
    test::TempDir dir;
    EXPECT_EQ(load_peer_snapshot(dir / "absent.json").error(), errc::not_found);
    const std::vector<std::pair<std::string, errc>> cases = {
        {"", errc::malformed_json},
        {"{\"version\":1,\"peers\":[", errc::malformed_json},
        {"{\"version\":2,\"peers\":[]}", errc::value_out_of_range},
        {"{\"version\":1}", errc::missing_field},
        {"{\"version\":1,\"peers\":[{\"id\":\"zz\",\"address\":\"ws://h:1\"}]}", errc::bad_length},
        {"{\"version\":1,\"peers\":[{\"id\":\"" + std::string(64, '0') +
             "\",\"address\":\"http://h:1\"}]}",
         errc::value_out_of_range},
        {"{\"version\":1,\"peers\":[],\"extra\":1}", errc::unknown_field},
    };
    for (const auto& [text, expected] : cases) {
        std::ofstream(dir / "peers.json") << text;
        EXPECT_EQ(load_peer_snapshot(dir / "peers.json").error(), expected) << text;
    }
}

}  // namespace
}  // namespace nocturne::app
