#pragma once

#include <nocturne/core/error.hpp>

#include <filesystem>

namespace nocturne::app {

// An exclusive advisory lock (flock) on $HOME/node.lock, held for the life of a running node, so
// that two nodes never share one home (one key, one SQLite store). The kernel drops the lock when
// the process dies, so a crash never leaves a stale lock behind.
class HomeLock {
public:
    // errc::io_error-style errors from the OS; std::errc::resource_unavailable_try_again when
    // another process holds the lock.
    static result<HomeLock> acquire(const std::filesystem::path& home);

    HomeLock(HomeLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    HomeLock& operator=(HomeLock&&) = delete;
    HomeLock(const HomeLock&) = delete;
    HomeLock& operator=(const HomeLock&) = delete;
    ~HomeLock();

private:
    explicit HomeLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace nocturne::app
