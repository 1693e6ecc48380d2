#include <nocturne/core/sodium_init.hpp>
#include <nocturne/crypto/channel.hpp>

#include <sodium.h>

#include <utility>

namespace nocturne::crypto {

static_assert(crypto_kx_PUBLICKEYBYTES == std::tuple_size_v<KxPublicKey>);
static_assert(crypto_kx_SESSIONKEYBYTES == 32);
static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == 32);
static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == std::tuple_size_v<StreamHeader>);
static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == ChannelSender::overhead);

EphemeralKey EphemeralKey::generate() {
    ensure_sodium();
    EphemeralKey k;
    crypto_kx_keypair(k.public_.data(), k.secret_.data());
    return k;
}

EphemeralKey::EphemeralKey(EphemeralKey&& other) noexcept
    : public_(other.public_), secret_(other.secret_) {
    sodium_memzero(other.secret_.data(), other.secret_.size());
}

EphemeralKey& EphemeralKey::operator=(EphemeralKey&& other) noexcept {
    if (this != &other) {
        public_ = other.public_;
        secret_ = other.secret_;
        sodium_memzero(other.secret_.data(), other.secret_.size());
    }
    return *this;
}

EphemeralKey::~EphemeralKey() {
    sodium_memzero(secret_.data(), secret_.size());
}

result<ChannelKeys> ChannelKeys::derive(bool dialer, const EphemeralKey& ours,
                                        const KxPublicKey& theirs) {
    ensure_sodium();
    ChannelKeys keys;
    const int rc =
        dialer
            ? crypto_kx_client_session_keys(keys.rx_.data(), keys.tx_.data(), ours.public_.data(),
                                            ours.secret_.data(), theirs.data())
            : crypto_kx_server_session_keys(keys.rx_.data(), keys.tx_.data(), ours.public_.data(),
                                            ours.secret_.data(), theirs.data());
    if (rc != 0) return make_error_code(errc::bad_key_exchange);
    return keys;
}

ChannelKeys::ChannelKeys(ChannelKeys&& other) noexcept : rx_(other.rx_), tx_(other.tx_) {
    sodium_memzero(other.rx_.data(), other.rx_.size());
    sodium_memzero(other.tx_.data(), other.tx_.size());
}

ChannelKeys& ChannelKeys::operator=(ChannelKeys&& other) noexcept {
    if (this != &other) {
        rx_ = other.rx_;
        tx_ = other.tx_;
        sodium_memzero(other.rx_.data(), other.rx_.size());
        sodium_memzero(other.tx_.data(), other.tx_.size());
    }
    return *this;
}

ChannelKeys::~ChannelKeys() {
    sodium_memzero(rx_.data(), rx_.size());
    sodium_memzero(tx_.data(), tx_.size());
}

namespace {

static_assert(crypto_auth_BYTES == std::tuple_size_v<KeyConfirmation>);
static_assert(crypto_auth_KEYBYTES == 32);

// A key of its own for the confirmation: the direction's stream key is never used twice.
std::array<std::uint8_t, 32> confirmation_key(const std::array<std::uint8_t, 32>& direction) {
    static constexpr std::string_view label = "nocturne/key-confirmation/v1";
    std::array<std::uint8_t, 32> key{};
    crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(label.data()),
                       label.size(), direction.data(), direction.size());
    return key;
}

}  // namespace

KeyConfirmation ChannelKeys::confirm(std::string_view identity) const {
    auto key = confirmation_key(tx_);
    KeyConfirmation mac{};
    crypto_auth(mac.data(), reinterpret_cast<const unsigned char*>(identity.data()),
                identity.size(), key.data());
    sodium_memzero(key.data(), key.size());
    return mac;
}

bool ChannelKeys::confirms(std::string_view identity, const KeyConfirmation& confirmation) const {
    auto key = confirmation_key(rx_);
    const bool ok = crypto_auth_verify(confirmation.data(),
                                       reinterpret_cast<const unsigned char*>(identity.data()),
                                       identity.size(), key.data()) == 0;
    sodium_memzero(key.data(), key.size());
    return ok;
}

struct ChannelSender::State {
    crypto_secretstream_xchacha20poly1305_state s;
    ~State() { sodium_memzero(&s, sizeof s); }
};

ChannelSender::ChannelSender(const ChannelKeys& keys) : state_(std::make_unique<State>()) {
    crypto_secretstream_xchacha20poly1305_init_push(&state_->s, header_.data(), keys.tx_.data());
}

ChannelSender::~ChannelSender() = default;

std::string ChannelSender::seal(std::string_view message) {
    std::string out(message.size() + overhead, '\0');
    crypto_secretstream_xchacha20poly1305_push(
        &state_->s, reinterpret_cast<unsigned char*>(out.data()), nullptr,
        reinterpret_cast<const unsigned char*>(message.data()), message.size(), nullptr, 0,
        crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    return out;
}

struct ChannelReceiver::State {
    crypto_secretstream_xchacha20poly1305_state s;
    ~State() { sodium_memzero(&s, sizeof s); }
};

ChannelReceiver::ChannelReceiver(const ChannelKeys& keys, const StreamHeader& peer_header)
    : state_(std::make_unique<State>()) {
    // Fails only for a malformed header, which every 24 bytes are not: a wrong one fails open().
    failed_ = crypto_secretstream_xchacha20poly1305_init_pull(&state_->s, peer_header.data(),
                                                              keys.rx_.data()) != 0;
}

ChannelReceiver::~ChannelReceiver() = default;

result<std::string> ChannelReceiver::open(std::string_view frame) {
    if (failed_ || frame.size() < ChannelSender::overhead) {
        failed_ = true;
        return make_error_code(errc::bad_channel_frame);
    }
    std::string out(frame.size() - ChannelSender::overhead, '\0');
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(
            &state_->s, reinterpret_cast<unsigned char*>(out.data()), nullptr, &tag,
            reinterpret_cast<const unsigned char*>(frame.data()), frame.size(), nullptr, 0) != 0 ||
        tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
        failed_ = true;
        return make_error_code(errc::bad_channel_frame);
    }
    return out;
}

}  // namespace nocturne::crypto
