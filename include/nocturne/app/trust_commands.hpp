#pragma once

#include <nocturne/app/mesh_access.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace nocturne::app {

// The Web of Trust commands of nocturne-agent. Each returns the process exit code: 0 on success,
// 1 with one line "nocturne-agent: <what is wrong>" on `err` (further lines may detail it).
// Output meant for scripts goes to `out` as key=value lines.

// Creates the operator key (keys/operator.key) and the node key (keys/node.key), both 0600, and
// records the label. Run again, it reports the existing keys (and refuses another label).
struct SetupOptions {
    std::filesystem::path home;
    std::string label;
};
int run_setup(const SetupOptions& opts, std::ostream& out, std::ostream& err);

// Writes an endorsement of operator_key (64 hex: the public key `setup` printed) signed with the
// operator key file `key`.
struct EndorseOptions {
    std::string operator_key;
    std::filesystem::path key;
    std::optional<std::filesystem::path> out_file;  // default: endorsement-<op>-by-<endorser>.sig
    std::optional<std::int64_t> timestamp;          // default: now
};
int run_endorse(const EndorseOptions& opts, std::int64_t now, std::ostream& out, std::ostream& err);

// Builds this home's operator certificate from endorsement files, validates it against what
// `state` knows (genesis, and endorsers' certificates fetched through `mesh`), signs an agent
// certificate for the home's node key, saves both to trust/credentials.json (the daemon picks them
// up, and publishes them), and publishes them through `mesh` when given. A genesis operator needs
// no endorsements. Says which endorsements do not count and why when there are too few.
struct EnrollOptions {
    std::filesystem::path home;
    std::vector<std::filesystem::path> endorsements;
    int max_agents = 5;
    int agent_index = 0;
    int valid_days = 365;
};
int run_enroll(const EnrollOptions& opts, trust::TrustState& state, MeshAccess* mesh,
               std::int64_t now, std::ostream& out, std::ostream& err);

// One operator's signature on the revocation of another (by public key or operator id). All
// signers must sign the same (operator, reason, timestamp): the first one starts the revocation,
// the others join it by passing the first one's file (join).
struct RevokeSignOptions {
    std::string operator_ref;  // 64 hex: a public key, or with by_id an operator id
    bool by_id = false;
    std::string reason;
    std::optional<std::filesystem::path> join;  // sign the revocation in this signature file
    std::filesystem::path key;
    std::optional<std::filesystem::path> out_file;  // default: revocation-<op>-by-<signer>.sig
};
int run_revoke_sign(const RevokeSignOptions& opts, const trust::Genesis& genesis, std::int64_t now,
                    std::ostream& out, std::ostream& err);

// `revoke publish` and `quarantine publish`: the signature files to combine into one statement,
// and the key of the signer that publishes it.
struct ThresholdPublishOptions {
    std::vector<std::filesystem::path> signatures;
    std::filesystem::path key;
};

// Combines signature files into a revocation certificate, validates it (threshold of trusted
// signers) and publishes it, authored by `key` (one of the signers).
int run_revoke_publish(const ThresholdPublishOptions& opts, trust::TrustState& state,
                       MeshAccess* mesh, std::int64_t now, std::ostream& out, std::ostream& err);

}  // namespace nocturne::app
