#include <nocturne/core/sha256.hpp>
#include <nocturne/core/sodium_init.hpp>

#include <sodium.h>

namespace nocturne {

sha256_digest sha256(bytes_view data) noexcept {
    ensure_sodium();
    sha256_digest out{};
    crypto_hash_sha256(out.data(), data.data(), data.size());
    return out;
}

}  // namespace nocturne
