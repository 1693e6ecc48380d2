#pragma once

#include <string_view>

namespace nocturne {

// Writes all of data to fd, retrying short writes and EINTR. False on any other error, with
// errno set by the failing write.
bool write_all(int fd, std::string_view data) noexcept;

}  // namespace nocturne
