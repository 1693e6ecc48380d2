#pragma once

// What the one-shot trust commands (trust_commands.cpp, quarantine_commands.cpp) share: their
// error lines, key files and operator references.

#include <nocturne/app/mesh_access.hpp>
#include <nocturne/core/error.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/key_file.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

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

// Reads signature files with `parse` (one of the trust share parsers). Nullopt after writing the
// error when one cannot be read or is not valid.
template <class Share, class Parse>
std::optional<std::vector<Share>> read_shares(const std::vector<std::filesystem::path>& paths,
                                              Parse parse, const std::string& what,
                                              std::ostream& err) {
    std::vector<Share> shares;
    for (const auto& path : paths) {
        auto text = read_file(path, max_trust_file_bytes);
        if (!text) {
            fail(err, "cannot read " + path.string() + ": " + describe(text.error()));
            return std::nullopt;
        }
        auto share = parse(*text);
        if (!share) {
            fail(err, path.string() + " is not a valid " + what +
                          " signature: " + describe(share.error()));
            return std::nullopt;
        }
        shares.push_back(std::move(*share));
    }
    return shares;
}

// Before judging a threshold statement: the certificates of signers this command does not know
// yet, from the mesh.
inline void fetch_signer_certificates(const trust::TrustState& state, MeshAccess& mesh,
                                      const std::vector<trust::RevocationSignature>& signatures,
                                      std::int64_t now) {
    for (const auto& s : signatures) {
        const auto id = trust::operator_id_of(s.signer);
        if (!state.validator().is_trusted(id, now)) {
            mesh.get(prefix_key(wire::key_prefix::cert, id));
        }
    }
}

// How many responsible nodes took a record, or nullopt after writing why none did.
inline std::optional<std::size_t> stored_or_fail(const dht::PutResult& res, const std::string& what,
                                                 std::ostream& err) {
    if (res.stored == 0) {
        fail(err, what + " not stored: " +
                      (res.first_refusal == errc::ok ? std::string("no node answered")
                                                     : errc_name(res.first_refusal)));
        return std::nullopt;
    }
    return res.stored;
}

}  // namespace nocturne::app::detail
