#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>

#include <filesystem>

namespace nocturne::app {

// The node (agent) key: loaded from its key file, or generated and saved (0600) on first start.
// A key file that exists but cannot be used is an error, never silently replaced: the node's id
// and everything signed with it depend on that key.
result<crypto::KeyPair> load_or_create_node_key(const std::filesystem::path& key_file,
                                                bool& created);

}  // namespace nocturne::app
