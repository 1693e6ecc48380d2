#include <nocturne/api/api_token.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/crypto/random.hpp>

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nocturne::api {
namespace {

// A token and a newline, with room for a stray "\r\n"; anything bigger is not a token file.
constexpr std::size_t max_token_file_size = 128;

std::error_code last_errno() {
    return {errno, std::generic_category()};
}

result<std::string> load_token(const std::filesystem::path& path) {
    auto read = read_private_file(path, max_token_file_size);
    if (!read) return read.error();
    std::string text = std::move(*read);
    if (text.ends_with("\r\n")) {
        text.resize(text.size() - 2);
    } else if (text.ends_with('\n')) {
        text.pop_back();
    }
    if (!is_valid_token(text)) return make_error_code(errc::key_file_malformed);
    return text;
}

std::error_code create_token(const std::filesystem::path& path) {
    std::string text = crypto::random_hex_id(api_token_bytes) + "\n";
    std::filesystem::path temp = path;
    temp += ".tmp-" + crypto::random_hex_id(8);
    // Mode 0600 from creation on: the token is never readable by others, not even briefly.
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        sodium_memzero(text.data(), text.size());
        return last_errno();
    }
    const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
    std::error_code ec = ok ? std::error_code{} : last_errno();
    ::close(fd);
    sodium_memzero(text.data(), text.size());
    // link() rather than rename(): it fails with EEXIST instead of replacing a token that another
    // process (a second daemon start, racing us) created and may already have handed out.
    if (!ec && ::link(temp.c_str(), path.c_str()) != 0) ec = last_errno();
    ::unlink(temp.c_str());
    return ec;
}

}  // namespace

bool is_valid_token(std::string_view token) noexcept {
    return token.size() == 2 * api_token_bytes &&
           std::all_of(token.begin(), token.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

result<std::string> load_or_create_token(const std::filesystem::path& path) {
    auto loaded = load_token(path);
    if (loaded || loaded.error() != errc::key_file_missing) return loaded;
    const std::error_code ec = create_token(path);
    if (ec && ec != std::errc::file_exists) return ec;
    // Read back even what we just wrote: one code path checks mode, owner and content.
    return load_token(path);
}

}  // namespace nocturne::api
