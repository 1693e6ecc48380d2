#include <nocturne/app/home.hpp>
#include <nocturne/app/home_lock.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace nocturne::app {

result<HomeLock> HomeLock::acquire(const std::filesystem::path& home) {
    const auto path = HomeLayout{home}.lock_file();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return std::error_code(errno, std::generic_category());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK)
            return std::make_error_code(std::errc::resource_unavailable_try_again);
        return std::error_code(err, std::generic_category());
    }
    return HomeLock(fd);
}

HomeLock::~HomeLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace nocturne::app
