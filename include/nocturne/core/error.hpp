#pragma once

#include <boost/system/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace nocturne {

// Every failure caused by input from peers, the API, files or the command line is reported as one
// of these codes; none of them throws. The names double as the stable machine-readable error codes
// of the wire protocol and the local API, so never renumber or rename one.
enum class errc {
    ok = 0,
    // Encoding and framing.
    bad_hex = 1,
    bad_length,
    frame_too_large,
    too_deep,
    malformed_json,
    missing_field,
    wrong_type,
    unknown_field,
    unknown_version,
    unknown_message_type,
    value_out_of_range,
    // Authenticity.
    bad_signature = 20,
    node_id_mismatch,
    public_key_mismatch,
    bad_channel_frame,  // a session frame that is not the peer's next sealed one
    bad_key_exchange,   // a handshake's X25519 key that yields no session keys
    // Records.
    unknown_record_kind = 30,
    key_mismatch,
    record_too_large,
    ttl_out_of_range,
    record_expired,
    created_in_future,
    stale_seq,
    seq_conflict,
    // Keys and files.
    key_file_insecure = 50,
    key_file_malformed,
    key_file_missing,
    io_error,
    // Storage.
    store_error = 60,
    store_schema_mismatch,
    not_found,
    // DHT.
    not_responsible = 70,
    timeout,
    rate_limited,
    unexpected_message,
    remote_error,        // a peer refused with a code this version does not know
    unreachable,         // the peer's address could not be dialed
    bad_address,         // an address that is not ws://IP:port (or, for seeds, ws://host:port)
    quorum_unavailable,  // fewer responsible agents answered than the rule needs
    // Trust.
    unknown_agent = 80,
    untrusted_operator,
    operator_revoked,
    insufficient_endorsements,
    insufficient_signatures,
    certificate_expired,
    too_many_agents,
    agent_superseded,
    network_mismatch,
    untrusted_peer,
    invalid_genesis,
    wrong_subject,
    trust_depth_exceeded,
    duplicate_signer,
    operator_quarantined,
    genesis_protected,  // a genesis operator can only be removed by the genesis rule
    // Local API (HTTP statuses in docs/api.md); a missing route is not_found.
    bad_request = 100,
    unauthorized,
    forbidden_host,
    method_not_allowed,
    body_too_large,
    unsupported_media_type,
    internal_error,
    not_ready,  // the node runs but has not joined a mesh yet (readiness probe)
    // Votes, tasks, anomalies (after the local API codes, which start at 100).
    vote_window_closed = 110,
    no_commitment,
    reveal_mismatch,
    equivocation,
    duplicate_vote,
    task_claimed,
    stale_epoch,
    too_many_claims,
    task_closed,
    not_claimant,
    over_operator_rate,
    invalid_evidence,
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

// The short stable name of a code ("bad_signature"), for logs, wire ERROR payloads and API bodies.
const char* errc_name(errc e) noexcept;
// The stable name of any error code: errc_name() for ours; others (the OS, SQLite) are reported
// as `fallback`, since their names are not part of the protocol.
const char* error_name(std::error_code ec, const char* fallback = "io_error") noexcept;

// The errc of ours that ec is, or `fallback` for codes of other categories (the OS, SQLite).
errc errc_of(std::error_code ec, errc fallback) noexcept;

// The inverse of errc_name for the names this version knows (a table, built once); nullopt for
// others. Peers send codes by name: an unknown one becomes errc::remote_error at the wire layer.
std::optional<errc> errc_from_name(std::string_view name);

// An error code and what the reader needs to act on it, travelling together (LevelDB's Status):
// the code is the stable machine-readable part (wire and API names), the detail a sentence for a
// person ("limit must be an integer between 1 and 100"). It converts to std::error_code, so code
// that only needs the code keeps working, and compares equal to error enums.
class Error {
public:
    Error() = default;
    Error(errc code) : code_(make_error_code(code)) {}  // NOLINT: implicit by design
    Error(std::error_code code) : code_(code) {}        // NOLINT: implicit by design
    Error(errc code, std::string detail)
        : code_(make_error_code(code)), detail_(std::move(detail)) {}
    Error(std::error_code code, std::string detail) : code_(code), detail_(std::move(detail)) {}

    const std::error_code& code() const noexcept { return code_; }
    // The sentence given with the code, or "" when there is none.
    const std::string& detail() const noexcept { return detail_; }
    // The detail when there is one, else the code's own message.
    std::string message() const { return detail_.empty() ? code_.message() : detail_; }
    // The stable name of the code (error_name()).
    const char* name() const noexcept;
    operator std::error_code() const noexcept { return code_; }  // NOLINT: implicit by design
    explicit operator bool() const noexcept { return static_cast<bool>(code_); }

    friend bool operator==(const Error& a, const Error& b) noexcept { return a.code_ == b.code_; }
    friend bool operator==(const Error& a, const std::error_code& b) noexcept {
        return a.code_ == b;
    }
    template <class E>
    requires std::is_error_code_enum_v<E> || std::is_error_condition_enum_v<E>
    friend bool operator==(const Error& a, E b) noexcept { return a.code_ == b; }

private:
    std::error_code code_;
    std::string detail_;
};

// Result type of every fallible operation on untrusted input.
template <class T>
using result = boost::system::result<T, Error>;

// Comparing a result with a code compiles through the result's converting constructor, and then
// compares a success with an error: `store.put(r) != errc::stale_seq` is true on success. Refused
// at compile time; compare r.error() instead.
template <class T, class E>
requires std::is_error_code_enum_v<E> || std::is_error_condition_enum_v<E> ||
    std::is_same_v<E, std::error_code> || std::is_same_v<E, Error>
bool operator==(const result<T>&, const E&) = delete;

// boost::system::result::value() throws this for an Error (start-up code only; protocol code
// checks has_value()).
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

}  // namespace nocturne

template <>
struct std::is_error_code_enum<nocturne::errc> : std::true_type {};
