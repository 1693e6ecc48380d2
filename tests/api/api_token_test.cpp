#include <nocturne/api/api_token.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace nocturne::api {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& text, fs::perms mode) {
    std::ofstream(p) << text;
    fs::permissions(p, mode, fs::perm_options::replace);
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(ApiToken, CreatesA0600FileWithAFreshToken) {
    test::TempDir dir;
    const auto path = dir / "api.token";
    const auto token = load_or_create_token(path);
    ASSERT_TRUE(token.has_value()) << token.error().message();
    EXPECT_EQ(token->size(), 64u);
    EXPECT_TRUE(is_valid_token(*token));
    EXPECT_EQ(read_file(path), *token + "\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // No temporary file is left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);

    test::TempDir other;
    EXPECT_NE(load_or_create_token(other / "api.token").value(), *token);
}

TEST(ApiToken, ReusesTheExistingToken) {
    test::TempDir dir;
    const auto path = dir / "api.token";
    const auto first = load_or_create_token(path);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(load_or_create_token(path).value(), *first);

    const std::string mine(64, 'A');
    write_file(dir / "mine.token", mine, fs::perms::owner_read);
    EXPECT_EQ(load_or_create_token(dir / "mine.token").value(), mine);  // no newline is fine too
}

TEST(ApiToken, RefusesAFileOthersCanRead) {
    test::TempDir dir;
    const auto path = dir / "api.token";
    ASSERT_TRUE(load_or_create_token(path).has_value());
    const auto token = read_file(path);
    for (const auto extra : {fs::perms::group_read, fs::perms::others_read, fs::perms::group_write,
                             fs::perms::others_exec}) {
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | extra,
                        fs::perm_options::replace);
        EXPECT_EQ(load_or_create_token(path).error(), errc::key_file_insecure);
    }
    // Refused, not replaced: the file is left for its owner to fix.
    EXPECT_EQ(read_file(path), token);
}

TEST(ApiToken, RefusesMalformedContent) {
    test::TempDir dir;
    const std::string good(64, 'a');
    for (const std::string& text :
         {std::string(), std::string("\n"), good.substr(1), good + "a", good + "\n\n", good + " ",
          " " + good, std::string(63, 'a') + "g", good + "\nsecond line", std::string(4096, 'a')}) {
        const auto path = dir / "api.token";
        fs::remove(path);
        write_file(path, text, fs::perms::owner_read | fs::perms::owner_write);
        EXPECT_EQ(load_or_create_token(path).error(), errc::key_file_malformed) << text;
        EXPECT_EQ(read_file(path), text);  // never overwritten
    }
}

TEST(ApiToken, RefusesSymlinksAndDirectories) {
    test::TempDir dir;
    const auto real = dir / "real.token";
    ASSERT_TRUE(load_or_create_token(real).has_value());
    fs::create_symlink(real, dir / "link.token");
    EXPECT_EQ(load_or_create_token(dir / "link.token").error(), errc::key_file_insecure);
    fs::create_directory(dir / "dir.token");
    fs::permissions(dir / "dir.token", fs::perms::owner_all, fs::perm_options::replace);
    EXPECT_EQ(load_or_create_token(dir / "dir.token").error(), errc::key_file_malformed);
}

TEST(ApiToken, MissingDirectoryIsAnError) {
    test::TempDir dir;
    const auto token = load_or_create_token(dir / "absent" / "api.token");
    ASSERT_FALSE(token.has_value());
    EXPECT_EQ(token.error(), std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace nocturne::api
