#pragma once

// What the one-shot trust commands (trust_commands.cpp, quarantine_commands.cpp) share: their
// error lines, key files and operator references.

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/key_file.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/trust/genesis.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <ostream>
#include <string>

namespace nocturne::app::detail {

inline constexpr std::size_t max_trust_file_bytes = 16 * 1024;

inline int fail(std::ostream& err, const std::string& message) {
    err << "nocturne-agent: " << message << "\n";
    return 1;
}

inline std::string describe(std::error_code ec) {
    return std::string(ec.message()) + " (" + error_name(ec) + ")";
}

inline std::string short_id(const std::string& id) {
    return id.substr(0, 16);
}

inline result<crypto::KeyPair> load_key(const std::filesystem::path& path, std::ostream& err,
                                        const std::string& what) {
    auto key = crypto::load_key_file(path);
    if (!key) fail(err, "cannot read " + what + " " + path.string() + ": " + describe(key.error()));
    return key;
}

inline result<crypto::PublicKey> parse_public_key(const std::string& text) {
    if (text.size() != 64) return make_error_code(errc::bad_length);
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return crypto::public_key_from_hex(lower);
}

// An operator named on the command line: its public key (64 hex digits) or, with by_id, its
// operator id. Empty after writing the error when it is neither.
inline std::string resolve_operator(const std::string& ref, bool by_id, std::ostream& err) {
    if (by_id) {
        auto id = NodeId::from_hex(ref);
        if (!id || id->to_hex() != ref) {
            fail(err, "--operator-id must be 64 lower-case hex digits");
            return {};
        }
        return ref;
    }
    auto pk = parse_public_key(ref);
    if (!pk) {
        fail(err, "--operator must be the operator's public key as 64 hex digits (" +
                      describe(pk.error()) + ")");
        return {};
    }
    return trust::operator_id_of(*pk);
}

}  // namespace nocturne::app::detail
