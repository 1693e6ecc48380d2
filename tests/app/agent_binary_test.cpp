// Drives the real nocturne-agent binary as a user would.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sys/stat.h>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;

TEST(AgentBinary, StartCreatesIdentityAndStoreThenStopsOnSigterm) {
    TempDir home;
    Process agent(agent_binary(), {"start", "--home", home.path().string()});
    const auto line = agent.read_line(20s);
    ASSERT_TRUE(line.has_value()) << agent.drain_stderr();
    ASSERT_EQ(line->rfind("ready node_id=", 0), 0u) << *line;
    const auto node_id = line->substr(std::string("ready node_id=").size());
    EXPECT_EQ(node_id.size(), 64u);

    struct stat st {};
    ASSERT_EQ(::stat((home / "keys" / "node.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_TRUE(std::filesystem::exists(home / "dht" / "entries.db"));

    // A second node on the same home is refused with a clear message.
    Process second(agent_binary(), {"start", "--home", home.path().string()});
    ASSERT_EQ(second.wait(20s), 1);
    EXPECT_NE(second.drain_stderr().find("already running"), std::string::npos);

    agent.signal(SIGTERM);
    EXPECT_EQ(agent.wait(5s), 0);

    // Restart: same identity.
    Process again(agent_binary(), {"start"}, {"NOCTURNE_HOME=" + home.path().string()});
    const auto line2 = again.read_line(20s);
    ASSERT_TRUE(line2.has_value()) << again.drain_stderr();
    EXPECT_EQ(*line2, "ready node_id=" + node_id);
    again.signal(SIGINT);
    EXPECT_EQ(again.wait(5s), 0);
}

TEST(AgentBinary, BadInputGivesOneClearErrorAndNonZeroExit) {
    TempDir dir;
    Process no_cmd(agent_binary(), {});
    EXPECT_NE(no_cmd.wait(10s).value_or(0), 0);
    Process unknown(agent_binary(), {"start", "--bogus"});
    EXPECT_NE(unknown.wait(10s).value_or(0), 0);

    // A home that is a regular file.
    const auto file = dir / "file";
    std::ofstream(file) << "x";
    Process bad_home(agent_binary(), {"start", "--home", file.string()});
    EXPECT_EQ(bad_home.wait(10s), 1);
    EXPECT_NE(bad_home.drain_stderr().find("cannot use home"), std::string::npos);

    // A node key readable by others is refused, not used and not replaced.
    TempDir home;
    {
        Process agent(agent_binary(), {"start", "--home", home.path().string()});
        ASSERT_TRUE(agent.read_line(20s).has_value());
        agent.signal(SIGTERM);
        ASSERT_EQ(agent.wait(5s), 0);
    }
    std::filesystem::permissions(home / "keys" / "node.key", std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    Process insecure(agent_binary(), {"start", "--home", home.path().string()});
    EXPECT_EQ(insecure.wait(10s), 1);
    EXPECT_NE(insecure.drain_stderr().find("readable by group or others"), std::string::npos);
}

}  // namespace
}  // namespace nocturne::test
