#include <nocturne/core/error.hpp>

#include <boost/throw_exception.hpp>

#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>

namespace nocturne {
namespace {

// Every code with its stable name and its message, in one table: the code and its message travel
// together, and a new code cannot get one without the other.
struct CodeInfo {
    errc code;
    const char* name;
    const char* message;
};

constexpr CodeInfo codes[] = {
    {errc::ok, "ok", "success"},
    {errc::bad_hex, "bad_hex", "invalid hexadecimal string"},
    {errc::bad_length, "bad_length", "value has the wrong length"},
    {errc::frame_too_large, "frame_too_large", "input exceeds the size limit"},
    {errc::too_deep, "too_deep", "JSON nesting exceeds the depth limit"},
    {errc::malformed_json, "malformed_json", "malformed JSON"},
    {errc::missing_field, "missing_field", "a required field is missing"},
    {errc::wrong_type, "wrong_type", "a field has the wrong type"},
    {errc::unknown_field, "unknown_field", "unexpected field"},
    {errc::unknown_version, "unknown_version", "unsupported protocol version"},
    {errc::unknown_message_type, "unknown_message_type", "unknown message type"},
    {errc::value_out_of_range, "value_out_of_range", "value out of range"},
    {errc::bad_signature, "bad_signature", "signature verification failed"},
    {errc::node_id_mismatch, "node_id_mismatch", "node id is not SHA-256 of the sender public key"},
    {errc::public_key_mismatch, "public_key_mismatch", "public key does not match the signer"},
    {errc::bad_channel_frame, "bad_channel_frame",
     "frame failed to open: altered, replayed, reordered or truncated"},
    {errc::bad_key_exchange, "bad_key_exchange", "key exchange public key is unusable"},
    {errc::unknown_record_kind, "unknown_record_kind", "unknown record kind"},
    {errc::key_mismatch, "key_mismatch", "record key does not match its kind's derivation"},
    {errc::record_too_large, "record_too_large", "record exceeds the size limit"},
    {errc::ttl_out_of_range, "ttl_out_of_range", "record lifetime outside the allowed range"},
    {errc::record_expired, "record_expired", "record has expired"},
    {errc::created_in_future, "created_in_future", "record creation time is in the future"},
    {errc::stale_seq, "stale_seq", "record sequence number is lower than the stored one"},
    {errc::seq_conflict, "seq_conflict",
     "a different record with the same sequence number is stored"},
    {errc::key_file_insecure, "key_file_insecure", "key file is readable by group or others"},
    {errc::key_file_malformed, "key_file_malformed", "key file is malformed"},
    {errc::key_file_missing, "key_file_missing", "key file does not exist"},
    {errc::io_error, "io_error", "input/output error"},
    {errc::store_error, "store_error", "local store error"},
    {errc::store_schema_mismatch, "store_schema_mismatch",
     "local store has an unsupported schema version"},
    {errc::not_found, "not_found", "not found"},
    {errc::not_responsible, "not_responsible", "this node is not among the k closest to the key"},
    {errc::timeout, "timeout", "the peer did not answer in time"},
    {errc::rate_limited, "rate_limited", "too many requests"},
    {errc::unexpected_message, "unexpected_message",
     "message of a type or origin not expected here"},
    {errc::remote_error, "remote_error",
     "the peer refused with an error this version does not know"},
    {errc::unreachable, "unreachable", "the peer could not be reached at its address"},
    {errc::bad_address, "bad_address", "address is not of the form ws://IP:port"},
    {errc::quorum_unavailable, "quorum_unavailable", "too few responsible agents answered"},
    {errc::unknown_agent, "unknown_agent", "no valid agent certificate is known for this key"},
    {errc::untrusted_operator, "untrusted_operator",
     "operator is neither a genesis operator nor validly endorsed"},
    {errc::operator_revoked, "operator_revoked", "operator has been revoked"},
    {errc::insufficient_endorsements, "insufficient_endorsements",
     "too few valid endorsements from trusted operators"},
    {errc::insufficient_signatures, "insufficient_signatures",
     "too few valid signatures from trusted operators"},
    {errc::certificate_expired, "certificate_expired",
     "certificate has expired or is not yet valid"},
    {errc::too_many_agents, "too_many_agents",
     "agent index is not below the operator's max_agents"},
    {errc::agent_superseded, "agent_superseded", "a newer agent certificate holds this agent slot"},
    {errc::network_mismatch, "network_mismatch", "certificate belongs to another network"},
    {errc::untrusted_peer, "untrusted_peer", "the sending peer has no valid agent certificate"},
    {errc::invalid_genesis, "invalid_genesis", "genesis configuration is invalid"},
    {errc::wrong_subject, "wrong_subject", "endorsement or signature names another operator"},
    {errc::trust_depth_exceeded, "trust_depth_exceeded",
     "operator is further from genesis than the trust depth allows"},
    {errc::duplicate_signer, "duplicate_signer",
     "the same operator signed more than once; it counts once"},
    {errc::operator_quarantined, "operator_quarantined", "operator is quarantined"},
    {errc::genesis_protected, "genesis_protected",
     "a genesis operator can only be removed by the genesis rule"},
    {errc::bad_request, "bad_request", "malformed request"},
    {errc::unauthorized, "unauthorized", "missing or wrong API token"},
    {errc::forbidden_host, "forbidden_host", "Host header is not a loopback name"},
    {errc::method_not_allowed, "method_not_allowed", "method not allowed on this path"},
    {errc::body_too_large, "body_too_large", "request body exceeds the size limit"},
    {errc::unsupported_media_type, "unsupported_media_type",
     "request body must be application/json"},
    {errc::internal_error, "internal_error", "internal error"},
    {errc::not_ready, "not_ready", "the node has not joined a mesh yet"},
    {errc::vote_window_closed, "vote_window_closed", "outside the commit or reveal window"},
    {errc::no_commitment, "no_commitment", "no commitment for this reveal"},
    {errc::reveal_mismatch, "reveal_mismatch", "the reveal does not match the commitment"},
    {errc::equivocation, "equivocation",
     "a different commitment from this operator exists for this round"},
    {errc::duplicate_vote, "duplicate_vote",
     "this operator already voted the same way in this round"},
    {errc::task_claimed, "task_claimed", "the task is claimed by another agent"},
    {errc::stale_epoch, "stale_epoch", "the claim's epoch is not the task's current one"},
    {errc::too_many_claims, "too_many_claims", "this operator holds too many open claims"},
    {errc::task_closed, "task_closed", "the task is completed"},
    {errc::not_claimant, "not_claimant", "only the claimant may do this"},
    {errc::over_operator_rate, "over_operator_rate",
     "the operator is over its rate for this kind of record"},
    {errc::invalid_evidence, "invalid_evidence",
     "the report's evidence does not prove the violation"},
};

const CodeInfo* info(errc e) noexcept {
    for (const auto& c : codes) {
        if (c.code == e) return &c;
    }
    return nullptr;
}

class nocturne_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "nocturne"; }
    std::string message(int ev) const override {
        const auto* c = info(static_cast<errc>(ev));
        return c != nullptr ? c->message : "unknown nocturne error";
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const nocturne_category category;
    return category;
}

const char* errc_name(errc e) noexcept {
    const auto* c = info(e);
    return c != nullptr ? c->name : "unknown";
}

std::optional<errc> errc_from_name(std::string_view name) {
    static const auto table = [] {
        std::unordered_map<std::string_view, errc> t;
        for (const auto& c : codes) t.emplace(c.name, c.code);
        return t;
    }();
    const auto it = table.find(name);
    if (it == table.end()) return std::nullopt;
    return it->second;
}

errc errc_of(std::error_code ec, errc fallback) noexcept {
    return ec.category() == error_category() ? static_cast<errc>(ec.value()) : fallback;
}

const char* Error::name() const noexcept {
    return error_name(code_);
}

void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
    boost::throw_exception(std::system_error(e.code(), e.message()), loc);
}

const char* error_name(std::error_code ec, const char* fallback) noexcept {
    if (ec.category() == error_category()) return errc_name(static_cast<errc>(ec.value()));
    return fallback;
}

}  // namespace nocturne
