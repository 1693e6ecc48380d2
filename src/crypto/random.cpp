#include <nocturne/core/hex.hpp>
#include <nocturne/core/sodium_init.hpp>
#include <nocturne/crypto/random.hpp>

#include <sodium.h>

namespace nocturne::crypto {

void random_fill(std::span<std::uint8_t> out) noexcept {
    ensure_sodium();
    randombytes_buf(out.data(), out.size());
}

Nonce random_nonce() noexcept {
    Nonce n{};
    random_fill(n);
    return n;
}

std::string random_hex_id(std::size_t bytes) {
    nocturne::bytes buf(bytes);
    random_fill(buf);
    return to_hex(buf);
}

}  // namespace nocturne::crypto
