#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/wire/payloads.hpp>

#include <filesystem>
#include <system_error>
#include <vector>

namespace nocturne::app {

// The routing table's contacts on disk ($NOCTURNE_HOME/dht/peers.json), so that a restarted node
// rejoins through the peers it knew instead of depending on its bootstrap node. Written atomically
// (temporary file, fsync, rename) with mode 0600; read strictly: a damaged file yields an error
// and the node falls back to its --bootstrap seeds, it never starts with garbage contacts.
std::error_code save_peer_snapshot(const std::filesystem::path& file,
                                   const std::vector<wire::Contact>& peers);
result<std::vector<wire::Contact>> load_peer_snapshot(const std::filesystem::path& file);

}  // namespace nocturne::app
