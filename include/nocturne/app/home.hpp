#pragma once

#include <nocturne/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

namespace nocturne::app {

// Where a node keeps all of its state. Precedence: --home, then $NOCTURNE_HOME, then
// $HOME/.nocturne. Many nodes run on one machine by giving each its own home.
result<std::filesystem::path> resolve_home(const std::optional<std::string>& flag);

// Creates the home directory (0700) and its subdirectories if missing. An existing home that
// group or others can write to is refused: whoever can write there can replace the node's key.
std::error_code prepare_home(const std::filesystem::path& home);

// Every file of a home, in one place (LevelDB's db/filename.h): nothing else spells a path.
struct HomeLayout {
    std::filesystem::path root;

    // `start`'s settings (TOML): written at the first start, read by the next ones.
    std::filesystem::path config_file() const { return root / "node.toml"; }

    std::filesystem::path keys_dir() const { return root / "keys"; }
    std::filesystem::path node_key() const { return keys_dir() / "node.key"; }
    std::filesystem::path operator_key() const { return keys_dir() / "operator.key"; }

    std::filesystem::path dht_dir() const { return root / "dht"; }
    // The records this node holds as one of the k responsible nodes (SQLite, WAL).
    std::filesystem::path records_db() const { return dht_dir() / "entries.db"; }
    // The routing table's contacts, for the next start.
    std::filesystem::path peers_file() const { return dht_dir() / "peers.json"; }

    std::filesystem::path trust_dir() const { return root / "trust"; }
    // {"label": ...}: what `setup` was told, for `enroll`.
    std::filesystem::path operator_profile() const { return trust_dir() / "operator.json"; }
    // This node's own certificates (operator cert, agent cert, endorser chain), from `enroll`.
    std::filesystem::path credentials() const { return trust_dir() / "credentials.json"; }
    // Certificates and revocations this node learned from the mesh.
    std::filesystem::path trust_db() const { return trust_dir() / "trust.db"; }

    std::filesystem::path knowledge_dir() const { return root / "knowledge"; }
    // This node's own entries, signed, with their seqs (republished after a restart).
    std::filesystem::path published_db() const { return knowledge_dir() / "published.db"; }

    std::filesystem::path logs_dir() const { return root / "logs"; }
    std::filesystem::path log_file() const { return logs_dir() / "nocturne.log"; }

    // The local API's bearer token (0600); the MCP shim reads it from here.
    std::filesystem::path api_token() const { return root / "api.token"; }
    // The running node: held (flock) while it runs, so a second one on the home is refused.
    std::filesystem::path lock_file() const { return root / "node.lock"; }
    // The running node's pid, addresses and API URL (status, stop and the MCP shim read it).
    std::filesystem::path runtime_file() const { return root / "node.json"; }
    std::filesystem::path pid_file() const { return root / "node.pid"; }
};

}  // namespace nocturne::app
