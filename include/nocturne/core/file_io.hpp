#pragma once

#include <nocturne/core/error.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace nocturne {

// Writes all of data to fd, retrying short writes and EINTR. False on any other error, with
// errno set by the failing write.
bool write_all(int fd, std::string_view data) noexcept;

// Replaces `file` with `data` atomically (temporary file, fsync, rename), created with `mode`:
// a reader sees the old content or the new, never half of it, even across a crash.
std::error_code write_file_atomic(const std::filesystem::path& file, std::string_view data,
                                  unsigned mode = 0600);
// Creates `file` with `data`; fails with std::errc::file_exists rather than replace anything.
std::error_code write_new_file(const std::filesystem::path& file, std::string_view data,
                               unsigned mode = 0600);

// The whole file; errc::not_found when it does not exist, errc::frame_too_large past max_bytes.
result<std::string> read_file(const std::filesystem::path& file, std::size_t max_bytes);

// The whole of a file that holds a secret (a key, the API token), after checks that whoever else
// could read or replace it has not: errc::key_file_missing when absent; key_file_insecure for a
// symlink (it could point at a file someone else controls), for a file group or others may
// access, or one another user owns (they can rewrite it); key_file_malformed for anything but a
// regular file of at most max_bytes. The caller wipes the returned text when done.
result<std::string> read_private_file(const std::filesystem::path& file, std::size_t max_bytes);

}  // namespace nocturne
