#include <nocturne/core/file_io.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nocturne {
namespace {

std::error_code last_error() {
    return {errno, std::generic_category()};
}

}  // namespace

bool write_all(int fd, std::string_view data) noexcept {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::error_code write_file_atomic(const std::filesystem::path& file, std::string_view data,
                                  unsigned mode) {
    const auto tmp = file.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return last_error();
    const bool ok = write_all(fd, data) && ::fsync(fd) == 0;
    const std::error_code ec = ok ? std::error_code{} : last_error();
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
        const auto rename_ec = ec ? ec : last_error();
        ::unlink(tmp.c_str());
        return rename_ec;
    }
    return {};
}

std::error_code write_new_file(const std::filesystem::path& file, std::string_view data,
                               unsigned mode) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return last_error();
    const bool ok = write_all(fd, data) && ::fsync(fd) == 0;
    const std::error_code ec = ok ? std::error_code{} : last_error();
    ::close(fd);
    if (!ok) ::unlink(file.c_str());
    return ec;
}

result<std::string> read_file(const std::filesystem::path& file, std::size_t max_bytes) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return make_error_code(errc::not_found);
        return last_error();
    }
    std::string out;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            const auto ec = last_error();
            ::close(fd);
            return ec;
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
            ::close(fd);
            return make_error_code(errc::frame_too_large);
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

result<std::string> read_private_file(const std::filesystem::path& file, std::size_t max_bytes) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return make_error_code(errc::key_file_missing);
        if (errno == ELOOP) return make_error_code(errc::key_file_insecure);
        return last_error();
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const auto ec = last_error();
        ::close(fd);
        return ec;
    }
    std::error_code refusal;
    if (!S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(max_bytes)) {
        refusal = make_error_code(errc::key_file_malformed);
    } else if ((st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) {
        refusal = make_error_code(errc::key_file_insecure);
    }
    if (refusal) {
        ::close(fd);
        return refusal;
    }
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const auto ec = last_error();
            ::close(fd);
            return ec;
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    return text;
}

}  // namespace nocturne
