#include <nocturne/core/file_io.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/key_file.hpp>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace nocturne::crypto {
namespace {

constexpr std::size_t max_key_file_size = 4096;

std::error_code last_errno() {
    return {errno, std::generic_category()};
}

}  // namespace

std::error_code save_key_file(const std::filesystem::path& path, const KeyPair& keys) {
    const Seed seed = keys.seed();
    nlohmann::json doc = {{"version", 1},
                          {"kind", "ed25519"},
                          {"seed", to_hex(seed)},
                          {"public_key", to_hex(keys.public_key())}};
    std::string text = doc.dump(2) + "\n";

    // O_EXCL: never clobber an existing key. Mode 0600 is applied at creation, so there is no
    // window in which the secret is readable by others.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return last_errno();
    const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
    const std::error_code write_error = ok ? std::error_code{} : last_errno();
    ::close(fd);
    sodium_memzero(text.data(), text.size());
    if (!ok) {
        std::filesystem::remove(path);
        return write_error;
    }
    return {};
}

result<KeyPair> load_key_file(const std::filesystem::path& path) {
    auto read = read_private_file(path, max_key_file_size);
    if (!read) return read.error();
    std::string text = std::move(*read);

    const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    sodium_memzero(text.data(), text.size());
    if (doc.is_discarded() || !doc.is_object()) return make_error_code(errc::key_file_malformed);
    const auto version = doc.find("version");
    const auto kind = doc.find("kind");
    const auto seed_hex = doc.find("seed");
    const auto pub_hex = doc.find("public_key");
    if (version == doc.end() || !version->is_number_integer() || *version != 1 ||
        kind == doc.end() || !kind->is_string() || *kind != "ed25519" || seed_hex == doc.end() ||
        !seed_hex->is_string() || pub_hex == doc.end() || !pub_hex->is_string()) {
        return make_error_code(errc::key_file_malformed);
    }
    auto seed = from_hex_fixed<32>(seed_hex->get_ref<const std::string&>());
    auto pub = from_hex_fixed<32>(pub_hex->get_ref<const std::string&>());
    if (!seed || !pub) return make_error_code(errc::key_file_malformed);
    KeyPair keys = KeyPair::from_seed(*seed);
    sodium_memzero(seed->data(), seed->size());
    if (keys.public_key() != *pub) return make_error_code(errc::key_file_malformed);
    return keys;
}

}  // namespace nocturne::crypto
