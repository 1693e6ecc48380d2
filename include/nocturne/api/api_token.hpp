#pragma once

#include <nocturne/core/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace nocturne::api {

// Bytes of randomness in a token; the file holds them hex-encoded (64 characters) and a newline.
inline constexpr std::size_t api_token_bytes = 32;

// True for exactly 2 * api_token_bytes hex digits (either case).
bool is_valid_token(std::string_view token) noexcept;

// The bearer token of the local API (app::HomeLayout::api_token()). An existing file is loaded;
// a missing one is created with a fresh token, mode 0600, never clobbering a file another process
// created meanwhile (it is written aside and hard-linked into place, so a reader never sees it
// half-written). Refused: a file group or others can access or that another user owns
// (errc::key_file_insecure), a symlink, a non-regular file, and content other than a token with
// an optional trailing newline (errc::key_file_malformed). Other failures are errno codes.
result<std::string> load_or_create_token(const std::filesystem::path& path);

}  // namespace nocturne::api
