#include "support/agent_cli.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>

#include "support/process.hpp"

namespace nocturne::test {

using namespace std::chrono_literals;

CliOutcome run_agent(const std::vector<std::string>& args) {
    return run_program(agent_binary(), args);
}

CliOutcome run_program(const std::string& program, const std::vector<std::string>& args) {
    Process p(program, args);
    CliOutcome o;
    while (auto line = p.read_line(30s)) {
        o.out += *line + "\n";
        if (const auto eq = line->find('='); eq != std::string::npos) {
            o.values[line->substr(0, eq)] = line->substr(eq + 1);
        }
    }
    o.code = p.wait(30s).value_or(-1);
    o.err = p.drain_stderr();
    return o;
}

std::filesystem::path enroll_single_operator(const std::filesystem::path& home,
                                             const std::filesystem::path& dir,
                                             const std::string& network) {
    return enroll_genesis_operators({home}, dir, network);
}

std::filesystem::path enroll_genesis_operators(const std::vector<std::filesystem::path>& homes,
                                               const std::filesystem::path& dir,
                                               const std::string& network,
                                               const std::map<std::string, int>& rules) {
    nlohmann::json operators = nlohmann::json::array();
    for (std::size_t i = 0; i < homes.size(); ++i) {
        const auto label = "tester-" + std::to_string(i);
        auto setup = run_agent({"setup", "--home", homes[i].string(), "--label", label});
        EXPECT_EQ(setup.code, 0) << setup.err;
        operators.push_back(
            {{"public_key", setup.values["operator_public_key"]}, {"label", label}});
    }
    const auto genesis = dir / (network + "-genesis.json");
    nlohmann::json doc = {{"version", 1},
                          {"network", network},
                          {"min_endorsements", 1},
                          {"revocation_threshold", 1},
                          {"operators", operators}};
    for (const auto& [name, value] : rules) doc[name] = value;
    std::ofstream(genesis) << doc.dump();
    for (const auto& home : homes) {
        auto enroll = run_agent({"enroll", "--home", home.string(), "--genesis", genesis.string()});
        EXPECT_EQ(enroll.code, 0) << enroll.err;
    }
    return genesis;
}

std::string read_text_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace nocturne::test
