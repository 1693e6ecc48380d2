#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>

#include <filesystem>
#include <system_error>

namespace nocturne::crypto {

// Key files are small JSON documents {"version":1,"kind":"ed25519","seed":hex,"public_key":hex}
// written with mode 0600. Loading refuses a file that group or others can read (errc::
// key_file_insecure), one whose public key does not match its seed, and any malformed content.
//
// save_key_file never overwrites an existing file: losing an operator key is not recoverable.
std::error_code save_key_file(const std::filesystem::path& path, const KeyPair& keys);
result<KeyPair> load_key_file(const std::filesystem::path& path);

}  // namespace nocturne::crypto
