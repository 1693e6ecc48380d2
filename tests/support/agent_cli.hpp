#pragma once

// Runs nocturne-agent commands to completion as a user would, and prepares homes for tests that
// need an enrolled node.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace nocturne::test {

struct CliOutcome {
    int code = -1;
    std::map<std::string, std::string> values;  // key=value lines of stdout
    std::string out;
    std::string err;
};

// Runs the binary with args and waits for it (30 s at most; then it is killed).
CliOutcome run_agent(const std::vector<std::string>& args);
// The same for any program (a path, not looked up in PATH).
CliOutcome run_program(const std::string& program, const std::vector<std::string>& args);

// Sets up `home` as the sole genesis operator of a private mesh (min_endorsements 1) and enrolls
// its node; returns the genesis file written into `dir`. Fails the calling test on error.
std::filesystem::path enroll_single_operator(const std::filesystem::path& home,
                                             const std::filesystem::path& dir,
                                             const std::string& network = "test-net");
// The same for several homes: each one's operator is a genesis operator of the mesh.
// `rules`: further genesis fields (say vote_commit_seconds).
std::filesystem::path enroll_genesis_operators(const std::vector<std::filesystem::path>& homes,
                                               const std::filesystem::path& dir,
                                               const std::string& network = "test-net",
                                               const std::map<std::string, int>& rules = {});

std::string read_text_file(const std::filesystem::path& file);

}  // namespace nocturne::test
