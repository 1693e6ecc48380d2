#pragma once

// Steps that tests driving several real daemons share: polling until something holds, reading
// an endpoint's JSON, and orders (a revocation, a quarantine) signed by several operators.

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"

namespace nocturne::test {

// GET target on d, parsed; an empty object unless 200.
inline nlohmann::json get(const Daemon& d, const std::string& target) {
    const auto res = d.call("GET", target);
    if (!res || res->status != 200) return nlohmann::json::object();
    return nlohmann::json::parse(res->body, nullptr, false);
}

// Polls pred every 50 ms until it holds or the timeout passes; whether it held.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

// The operators whose homes are `signers` sign the same order (`<command> <action>`, say
// `revoke sign` or `quarantine lift`): the first starts it with first_args, the others --join
// its share, each `pause` after the one before. The share files written into dir, in signing
// order, comma-separated as `publish --signatures` takes them; it stops at the first signer that
// fails (the test has failed then).
inline std::string sign_order(const std::vector<std::filesystem::path>& signers,
                              const std::string& command, const std::string& action,
                              const std::vector<std::string>& first_args,
                              const std::filesystem::path& genesis,
                              const std::filesystem::path& dir,
                              std::chrono::milliseconds pause = {}) {
    std::string first, list;
    for (std::size_t i = 0; i < signers.size(); ++i) {
        const auto file = (dir / (command + "-" + action + std::to_string(i) + ".sig")).string();
        std::vector<std::string> args = {command, action};
        if (i == 0) {
            args.insert(args.end(), first_args.begin(), first_args.end());
        } else {
            std::this_thread::sleep_for(pause);
            args.insert(args.end(), {"--join", first});
        }
        args.insert(args.end(), {"--key", (signers[i] / "keys" / "operator.key").string(),
                                 "--genesis", genesis.string(), "--out", file});
        const auto o = run_agent(args);
        EXPECT_EQ(o.code, 0) << o.err;
        if (o.code != 0) break;
        if (i == 0) first = file;
        list += (list.empty() ? "" : ",") + file;
    }
    return list;
}

// The operators in `signers` sign the same quarantine order (`quarantine sign|lift`, see
// sign_order), and the first publishes it through seed.
inline CliOutcome quarantine_order(const std::vector<std::filesystem::path>& signers,
                                   const std::string& action, std::vector<std::string> first_args,
                                   const std::filesystem::path& genesis,
                                   const std::filesystem::path& dir, const std::string& seed) {
    const auto list = sign_order(signers, "quarantine", action, first_args, genesis, dir);
    return run_agent({"quarantine", "publish", "--signatures", list, "--key",
                      (signers[0] / "keys" / "operator.key").string(), "--genesis",
                      genesis.string(), "--bootstrap", seed});
}

}  // namespace nocturne::test
