#include <nocturne/core/hex.hpp>
#include <nocturne/core/sodium_init.hpp>
#include <nocturne/crypto/keys.hpp>

#include <sodium.h>

#include <utility>

namespace nocturne::crypto {

KeyPair KeyPair::generate() {
    ensure_sodium();
    KeyPair kp;
    crypto_sign_ed25519_keypair(kp.public_.data(), kp.secret_.data());
    return kp;
}

KeyPair KeyPair::from_seed(const Seed& seed) {
    ensure_sodium();
    KeyPair kp;
    crypto_sign_ed25519_seed_keypair(kp.public_.data(), kp.secret_.data(), seed.data());
    return kp;
}

KeyPair::KeyPair(KeyPair&& other) noexcept : public_(other.public_), secret_(other.secret_) {
    other.wipe();
}

KeyPair& KeyPair::operator=(KeyPair&& other) noexcept {
    if (this != &other) {
        public_ = other.public_;
        secret_ = other.secret_;
        other.wipe();
    }
    return *this;
}

KeyPair::~KeyPair() {
    wipe();
}

void KeyPair::wipe() noexcept {
    sodium_memzero(secret_.data(), secret_.size());
}

NodeId KeyPair::node_id() const {
    return NodeId::from_public_key(public_).value();
}

Seed KeyPair::seed() const {
    Seed seed{};
    crypto_sign_ed25519_sk_to_seed(seed.data(), secret_.data());
    return seed;
}

Signature KeyPair::sign(bytes_view message) const {
    Signature sig{};
    crypto_sign_ed25519_detached(sig.data(), nullptr, message.data(), message.size(),
                                 secret_.data());
    return sig;
}

bool verify(const PublicKey& key, bytes_view message, const Signature& signature) noexcept {
    ensure_sodium();
    return crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(),
                                               key.data()) == 0;
}

result<PublicKey> public_key_from_hex(std::string_view text) {
    return from_hex_fixed<32>(text);
}

result<Signature> signature_from_hex(std::string_view text) {
    return from_hex_fixed<64>(text);
}

}  // namespace nocturne::crypto
