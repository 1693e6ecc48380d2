#pragma once

#include <boost/system/result.hpp>

#include <system_error>

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
    // Local API (HTTP statuses in docs/api.md); a missing route is not_found.
    bad_request = 100,
    unauthorized,
    forbidden_host,
    method_not_allowed,
    body_too_large,
    unsupported_media_type,
    internal_error,
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

// Result type of every fallible operation on untrusted input.
template <class T>
using result = boost::system::result<T, std::error_code>;

}  // namespace nocturne

template <>
struct std::is_error_code_enum<nocturne::errc> : std::true_type {};
