#pragma once

// `quarantine sign|lift|publish`: trusted operators hold an operator's writes and votes for a
// while (trust/quarantine.hpp), or lift the hold early. Like a revocation, it takes
// revocation_threshold operators: the first signs, the others sign the same order with --join,
// and one of them publishes the signature files together.

#include <nocturne/app/mesh_access.hpp>
#include <nocturne/app/trust_commands.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/quarantine.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace nocturne::app {

struct QuarantineSignOptions {
    trust::QuarantineAction action = trust::QuarantineAction::hold;
    std::string operator_ref;  // 64 hex: a public key, or with by_id an operator id
    bool by_id = false;
    std::string reason;
    std::string report;  // hex id of the anomaly report it rests on (GET /local/anomalies)
    double days = 7;     // a hold's length, at most 30
    std::optional<std::filesystem::path> join;  // sign the order in this signature file
    std::filesystem::path key;
    std::optional<std::filesystem::path> out_file;  // default: quarantine-<op>-by-<signer>.sig
};
int run_quarantine_sign(const QuarantineSignOptions& opts, const trust::Genesis& genesis,
                        std::int64_t now, std::ostream& out, std::ostream& err);

// Combines signature files into an order, validates it (threshold of trusted signers) and
// publishes it, authored by `key` (one of the signers).
int run_quarantine_publish(const ThresholdPublishOptions& opts, trust::TrustState& state,
                           MeshAccess* mesh, std::int64_t now, std::ostream& out,
                           std::ostream& err);

}  // namespace nocturne::app
