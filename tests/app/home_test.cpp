#include <nocturne/app/home.hpp>
#include <nocturne/app/home_lock.hpp>
#include <nocturne/app/identity.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace nocturne::app {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
}

TEST(Home, FlagWinsOverEnvironment) {
    ::setenv("NOCTURNE_HOME", "/tmp/from-env", 1);
    EXPECT_EQ(resolve_home(std::string("/tmp/from-flag")).value(), fs::path("/tmp/from-flag"));
    EXPECT_EQ(resolve_home(std::nullopt).value(), fs::path("/tmp/from-env"));
    ::unsetenv("NOCTURNE_HOME");
    ::setenv("HOME", "/home/someone", 1);
    EXPECT_EQ(resolve_home(std::nullopt).value(), fs::path("/home/someone/.nocturne"));
}

TEST(Home, PrepareCreatesPrivateLayout) {
    test::TempDir dir;
    const auto home = dir / "a" / "b";
    ASSERT_FALSE(prepare_home(home));
    const HomeLayout layout{home};
    EXPECT_EQ(mode_of(home), 0700u);
    EXPECT_EQ(mode_of(layout.keys_dir()), 0700u);
    EXPECT_TRUE(fs::is_directory(layout.dht_dir()));
    EXPECT_TRUE(fs::is_directory(layout.logs_dir()));
    EXPECT_FALSE(prepare_home(home));  // idempotent
}

TEST(Home, RefusesWorldWritableHomeAndFiles) {
    test::TempDir dir;
    const auto home = dir / "home";
    fs::create_directory(home);
    fs::permissions(home, fs::perms::all, fs::perm_options::replace);
    EXPECT_EQ(prepare_home(home), errc::key_file_insecure);
    const auto file = dir / "file";
    std::ofstream(file) << "x";
    EXPECT_TRUE(prepare_home(file));
}

TEST(Identity, CreatedOnceThenLoaded) {
    test::TempDir dir;
    bool created = false;
    auto first = load_or_create_node_key(dir / "node.key", created);
    ASSERT_TRUE(first.has_value());
    EXPECT_TRUE(created);
    EXPECT_EQ(mode_of(dir / "node.key"), 0600u);
    auto second = load_or_create_node_key(dir / "node.key", created);
    ASSERT_TRUE(second.has_value());
    EXPECT_FALSE(created);
    EXPECT_EQ(first->node_id(), second->node_id());
}

TEST(Identity, BrokenKeyIsNeverReplaced) {
    test::TempDir dir;
    std::ofstream(dir / "node.key") << "garbage";
    fs::permissions(dir / "node.key", fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    bool created = true;
    EXPECT_EQ(load_or_create_node_key(dir / "node.key", created).error(), errc::key_file_malformed);
    EXPECT_FALSE(created);
    std::ifstream in(dir / "node.key");
    std::string text;
    in >> text;
    EXPECT_EQ(text, "garbage");
}

TEST(HomeLock, SecondLockOnSameHomeFails) {
    test::TempDir dir;
    auto first = HomeLock::acquire(dir.path());
    ASSERT_TRUE(first.has_value());
    // flock locks belong to the open file description, so a second open in the same process
    // conflicts just as another process would.
    EXPECT_EQ(HomeLock::acquire(dir.path()).error(), std::errc::resource_unavailable_try_again);
    { auto moved = std::move(*first); }
    EXPECT_TRUE(HomeLock::acquire(dir.path()).has_value());
}

}  // namespace
}  // namespace nocturne::app
