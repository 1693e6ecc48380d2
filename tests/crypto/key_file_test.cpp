#include <nocturne/crypto/key_file.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace nocturne::crypto {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& text, fs::perms mode) {
    std::ofstream(p) << text;
    fs::permissions(p, mode, fs::perm_options::replace);
}

TEST(KeyFile, SaveCreates0600AndLoadRoundTrips) {
    test::TempDir dir;
    const auto path = dir / "node.key";
    const auto keys = KeyPair::generate();
    ASSERT_FALSE(save_key_file(path, keys));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto loaded = load_key_file(path);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    EXPECT_EQ(loaded->public_key(), keys.public_key());
}

TEST(KeyFile, SaveNeverOverwrites) {
    test::TempDir dir;
    const auto path = dir / "node.key";
    const auto first = KeyPair::generate();
    ASSERT_FALSE(save_key_file(path, first));
    EXPECT_EQ(save_key_file(path, KeyPair::generate()), std::errc::file_exists);
    EXPECT_EQ(load_key_file(path)->public_key(), first.public_key());
}

TEST(KeyFile, RefusesFileReadableByOthers) {
    test::TempDir dir;
    const auto path = dir / "node.key";
    ASSERT_FALSE(save_key_file(path, KeyPair::generate()));
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                    fs::perm_options::replace);
    EXPECT_EQ(load_key_file(path).error(), errc::key_file_insecure);
    fs::permissions(path, fs::perms::owner_read | fs::perms::others_read,
                    fs::perm_options::replace);
    EXPECT_EQ(load_key_file(path).error(), errc::key_file_insecure);
}

TEST(KeyFile, MissingFile) {
    test::TempDir dir;
    EXPECT_EQ(load_key_file(dir / "absent.key").error(), errc::key_file_missing);
}

TEST(KeyFile, RejectsMalformedContent) {
    test::TempDir dir;
    const auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
    const std::string good_pub(64, '0');  // well-formed hex, but not the seed's key
    const std::vector<std::string> bad = {
        "",
        "not json",
        "[]",
        R"({"version":1,"kind":"ed25519","seed":"00"})",
        R"({"version":2,"kind":"ed25519","seed":")" + std::string(64, '0') + R"(","public_key":")" +
            good_pub + "\"}",
        R"({"version":1,"kind":"rsa","seed":")" + std::string(64, '0') + R"(","public_key":")" +
            good_pub + "\"}",
        R"({"version":1,"kind":"ed25519","seed":")" + std::string(64, 'z') + R"(","public_key":")" +
            good_pub + "\"}",
        // Public key that does not belong to the seed.
        R"({"version":1,"kind":"ed25519","seed":")" + std::string(64, '0') + R"(","public_key":")" +
            good_pub + "\"}",
        std::string(10000, '{'),
    };
    int i = 0;
    for (const auto& text : bad) {
        const auto path = dir / ("bad" + std::to_string(i++) + ".key");
        write_file(path, text, owner_only);
        EXPECT_EQ(load_key_file(path).error(), errc::key_file_malformed) << text.substr(0, 80);
    }
    EXPECT_EQ(load_key_file(dir.path()).error(), errc::key_file_malformed);  // a directory
}

}  // namespace
}  // namespace nocturne::crypto
