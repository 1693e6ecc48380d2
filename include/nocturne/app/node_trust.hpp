#pragma once

#include <nocturne/app/home.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/store/sqlite_store.hpp>
#include <nocturne/trust/trust_policy.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nocturne::app {

// A daemon's place in the Web of Trust: what it learned (trust/trust.db), its own certificates
// (trust/credentials.json, written by `enroll`, re-read when they change so that enrolling does
// not need a restart), and the record policy its node applies.
//
// Owned by the daemon's io_context thread; not thread-safe.
class NodeTrust {
public:
    // On failure `why` says what is wrong in one line.
    static std::unique_ptr<NodeTrust> open(const HomeLayout& home, trust::Genesis genesis,
                                           const NodeId& self, const Clock& clock,
                                           std::string& why);

    trust::TrustState& state() { return *state_; }
    dht::RecordPolicy& policy() { return *policy_; }

    // Loads credentials.json if it changed since the last call (or on the first call). Returns the
    // certificates this node should publish (its operator's certificate and its agent
    // certificate) when they changed, nothing otherwise. Problems are kept for describe().
    std::optional<std::vector<wire::Record>> refresh_credentials();

    // This node's standing as an agent, now.
    result<trust::TrustState::AgentStanding> standing() const;
    // One line for logs and status: "enrolled operator_id=... agent_index=..." or why not.
    std::string describe() const;

private:
    NodeTrust() = default;

    std::filesystem::path credentials_file_;
    NodeId self_;
    const Clock* clock_ = nullptr;
    std::unique_ptr<store::SqliteStore> db_;
    std::unique_ptr<trust::TrustState> state_;
    std::unique_ptr<trust::TrustPolicy> policy_;
    std::optional<std::filesystem::file_time_type> credentials_mtime_;
    bool first_refresh_ = true;
    std::string credentials_problem_;
};

}  // namespace nocturne::app
