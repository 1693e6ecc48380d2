#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/trust/anomaly_report.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::trust {

struct GenesisOperator {
    crypto::PublicKey public_key{};
    std::string label;
    int max_agents = 5;
};

// The root of the Web of Trust: the founding operators and the rules every node applies. All
// nodes of one mesh must share it; `network` names the mesh so that certificates made for one
// cannot be replayed into another.
struct Genesis {
    int version = 1;
    std::string network;
    int min_endorsements = 3;
    int revocation_threshold = 3;
    int max_depth = 3;  // longest endorsement chain from a genesis operator
    // Commit-reveal voting (vote/): every vote_commit_seconds a round's commit window opens; its
    // reveal window follows it for vote_reveal_seconds. Written into the file (and so into the
    // network id) only when they differ from these defaults.
    std::int64_t vote_commit_seconds = default_vote_commit_seconds;
    std::int64_t vote_reveal_seconds = default_vote_reveal_seconds;
    // How long a compute task's claim holds (compute/): the storers of every task enforce it, so
    // the mesh shares it. Written into the file only when it differs from the default.
    std::int64_t claim_seconds = default_claim_seconds;
    // Kademlia's k for this mesh: how many nodes hold each record (and the routing table's bucket
    // size). 0: the default, 20. A small private mesh (tests, a lab) sets fewer, so that not
    // every node holds every key. Written into the file only when set.
    int replication = 0;
    // Rates above which responsible nodes refuse an operator's records and report it (anomaly/).
    // Written into the file only when they differ from the defaults (20 votes a minute, 50
    // entries an hour into one domain).
    AnomalyRules anomaly;
    std::vector<GenesisOperator> operators;
    // ws:// or wss:// addresses of the mesh's well-known nodes, joined through when a home has no
    // saved peers and no --bootstrap. Hints only, outside the network id: seeds come and go
    // without making a new mesh, and every peer is authenticated and network-checked anyway.
    std::vector<std::string> bootstrap;

    static constexpr std::int64_t default_vote_commit_seconds = 3600;
    static constexpr std::int64_t default_vote_reveal_seconds = 3600;
    static constexpr std::int64_t max_vote_window_seconds = 7 * 86400;
    static constexpr std::int64_t default_claim_seconds = 3600;
    static constexpr int max_replication = 20;
    static constexpr std::size_t max_bootstrap = 16;

    const GenesisOperator* find(const crypto::PublicKey& key) const noexcept;
};

// Strict: unknown fields, wrong types, duplicate operators and rules that could never enroll
// anyone are errors. `why` receives a one-line explanation for the user.
result<Genesis> parse_genesis(std::string_view text);
std::string encode_genesis(const Genesis& genesis);

// The mesh's identity: hex SHA-256 of the genesis as encode_genesis() writes it, without the
// bootstrap seeds. Nodes compare it at their handshake; two genesis files that differ in anything
// else make two meshes.
std::string network_id(const Genesis& genesis);

// genesis.json from the repository root, compiled into the binary.
std::string_view builtin_genesis_text() noexcept;

// An operator's id: lower-case hex SHA-256 of its Ed25519 public key (the same derivation as a
// node id, so ids are self-certifying).
std::string operator_id_of(const crypto::PublicKey& key);

// Operator labels: 1-64 bytes of printable ASCII.
bool is_valid_label(std::string_view label) noexcept;

}  // namespace nocturne::trust
