#pragma once

#include <nocturne/core/error.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

// The confidential channel of a peer session. The handshake (net/handshake.hpp) exchanges one
// fresh X25519 key per side and binds both to the peers' Ed25519 identities; both sides then derive
// one key per direction (libsodium's crypto_kx), so a recorded session stays sealed after the
// long-term keys leak (forward secrecy). Each direction is a libsodium secretstream
// (XChaCha20-Poly1305): every frame is authenticated, and its nonce is the stream's own counter, so
// a frame that is altered, replayed, reordered or cut short fails to open, and so does the frame
// after one that was dropped. A receiver that failed once is done: the session closes.
namespace nocturne::crypto {

using KxPublicKey = std::array<std::uint8_t, 32>;
using StreamHeader = std::array<std::uint8_t, 24>;
using KeyConfirmation = std::array<std::uint8_t, 32>;

// One side's ephemeral key for one handshake; the secret half is wiped on destruction.
class EphemeralKey {
public:
    static EphemeralKey generate();
    EphemeralKey(const EphemeralKey&) = delete;
    EphemeralKey& operator=(const EphemeralKey&) = delete;
    EphemeralKey(EphemeralKey&&) noexcept;
    EphemeralKey& operator=(EphemeralKey&&) noexcept;
    ~EphemeralKey();

    const KxPublicKey& public_key() const noexcept { return public_; }

private:
    friend class ChannelKeys;
    EphemeralKey() = default;
    KxPublicKey public_{};
    std::array<std::uint8_t, 32> secret_{};
};

// The two directions' keys of one session, wiped on destruction.
class ChannelKeys {
public:
    // The dialer is the kx "client", the acceptor the "server": each side's send key is the other's
    // receive key. bad_key_exchange when the peer's key is unusable (a low-order point).
    static result<ChannelKeys> derive(bool dialer, const EphemeralKey& ours,
                                      const KxPublicKey& theirs);
    ChannelKeys(const ChannelKeys&) = delete;
    ChannelKeys& operator=(const ChannelKeys&) = delete;
    ChannelKeys(ChannelKeys&&) noexcept;
    ChannelKeys& operator=(ChannelKeys&&) noexcept;
    ~ChannelKeys();

    // Key confirmation for the handshake: a MAC over `identity` (who signs the AUTH, in which
    // role) under a key derived from this side's sending key. Only a holder of the session's keys
    // can make it, so an AUTH that carries it cannot be re-signed by a relay that claims the
    // session as its own (the identity misbinding that signing the key exchange alone allows).
    KeyConfirmation confirm(std::string_view identity) const;
    // Checks the peer's confirmation with our receiving key (constant time).
    bool confirms(std::string_view identity, const KeyConfirmation& confirmation) const;

private:
    friend class ChannelSender;
    friend class ChannelReceiver;
    ChannelKeys() = default;
    std::array<std::uint8_t, 32> rx_{};
    std::array<std::uint8_t, 32> tx_{};
};

// Seals this side's frames, in the order they go out. Owned by its session's thread.
class ChannelSender {
public:
    explicit ChannelSender(const ChannelKeys& keys);
    // Neither copied nor moved: a stream's state has exactly one owner (std::optional::emplace).
    ChannelSender(const ChannelSender&) = delete;
    ChannelSender& operator=(const ChannelSender&) = delete;
    ~ChannelSender();

    // What the receiver needs to open this stream; sent once, inside the signed AUTH.
    const StreamHeader& header() const noexcept { return header_; }
    // The frame to send: 17 bytes longer than the message.
    std::string seal(std::string_view message);

    static constexpr std::size_t overhead = 17;

private:
    struct State;
    StreamHeader header_{};
    std::unique_ptr<State> state_;
};

// Opens the peer's frames in the order they were sealed. Owned by its session's thread.
class ChannelReceiver {
public:
    ChannelReceiver(const ChannelKeys& keys, const StreamHeader& peer_header);
    ChannelReceiver(const ChannelReceiver&) = delete;
    ChannelReceiver& operator=(const ChannelReceiver&) = delete;
    ~ChannelReceiver();

    // The message, or bad_channel_frame for a frame that is not the next one the peer sealed
    // (altered, replayed, reordered, truncated, or of another stream). After a failure every later
    // frame fails too.
    result<std::string> open(std::string_view frame);

private:
    struct State;
    std::unique_ptr<State> state_;
    bool failed_ = false;
};

}  // namespace nocturne::crypto
