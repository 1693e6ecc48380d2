#include <nocturne/core/error.hpp>

#include <boost/throw_exception.hpp>

#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>

namespace nocturne {
namespace {

class nocturne_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "nocturne"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "success";
            case errc::bad_hex:
                return "invalid hexadecimal string";
            case errc::bad_length:
                return "value has the wrong length";
            case errc::frame_too_large:
                return "input exceeds the size limit";
            case errc::too_deep:
                return "JSON nesting exceeds the depth limit";
            case errc::malformed_json:
                return "malformed JSON";
            case errc::missing_field:
                return "a required field is missing";
            case errc::wrong_type:
                return "a field has the wrong type";
            case errc::unknown_field:
                return "unexpected field";
            case errc::unknown_version:
                return "unsupported protocol version";
            case errc::unknown_message_type:
                return "unknown message type";
            case errc::value_out_of_range:
                return "value out of range";
            case errc::bad_signature:
                return "signature verification failed";
            case errc::node_id_mismatch:
                return "node id is not SHA-256 of the sender public key";
            case errc::public_key_mismatch:
                return "public key does not match the signer";
            case errc::unknown_record_kind:
                return "unknown record kind";
            case errc::key_mismatch:
                return "record key does not match its kind's derivation";
            case errc::record_too_large:
                return "record exceeds the size limit";
            case errc::ttl_out_of_range:
                return "record lifetime outside the allowed range";
            case errc::record_expired:
                return "record has expired";
            case errc::created_in_future:
                return "record creation time is in the future";
            case errc::stale_seq:
                return "record sequence number is lower than the stored one";
            case errc::seq_conflict:
                return "a different record with the same sequence number is stored";
            case errc::key_file_insecure:
                return "key file is readable by group or others";
            case errc::key_file_malformed:
                return "key file is malformed";
            case errc::key_file_missing:
                return "key file does not exist";
            case errc::io_error:
                return "input/output error";
            case errc::store_error:
                return "local store error";
            case errc::store_schema_mismatch:
                return "local store has an unsupported schema version";
            case errc::not_found:
                return "not found";
            case errc::not_responsible:
                return "this node is not among the k closest to the key";
            case errc::timeout:
                return "the peer did not answer in time";
            case errc::rate_limited:
                return "too many requests";
            case errc::unexpected_message:
                return "message of a type or origin not expected here";
            case errc::remote_error:
                return "the peer refused with an error this version does not know";
            case errc::unreachable:
                return "the peer could not be reached at its address";
            case errc::bad_address:
                return "address is not of the form ws://IP:port";
            case errc::quorum_unavailable:
                return "too few responsible agents answered";
            case errc::unknown_agent:
                return "no valid agent certificate is known for this key";
            case errc::untrusted_operator:
                return "operator is neither a genesis operator nor validly endorsed";
            case errc::operator_revoked:
                return "operator has been revoked";
            case errc::insufficient_endorsements:
                return "too few valid endorsements from trusted operators";
            case errc::insufficient_signatures:
                return "too few valid signatures from trusted operators";
            case errc::certificate_expired:
                return "certificate has expired or is not yet valid";
            case errc::too_many_agents:
                return "agent index is not below the operator's max_agents";
            case errc::agent_superseded:
                return "a newer agent certificate holds this agent slot";
            case errc::network_mismatch:
                return "certificate belongs to another network";
            case errc::untrusted_peer:
                return "the sending peer has no valid agent certificate";
            case errc::invalid_genesis:
                return "genesis configuration is invalid";
            case errc::wrong_subject:
                return "endorsement or signature names another operator";
            case errc::trust_depth_exceeded:
                return "operator is further from genesis than the trust depth allows";
            case errc::duplicate_signer:
                return "the same operator signed more than once; it counts once";
            case errc::operator_quarantined:
                return "operator is quarantined";
            case errc::genesis_protected:
                return "a genesis operator can only be removed by the genesis rule";
            case errc::vote_window_closed:
                return "outside the commit or reveal window";
            case errc::no_commitment:
                return "no commitment for this reveal";
            case errc::reveal_mismatch:
                return "the reveal does not match the commitment";
            case errc::equivocation:
                return "a different commitment from this operator exists for this round";
            case errc::duplicate_vote:
                return "this operator already voted the same way in this round";
            case errc::task_claimed:
                return "the task is claimed by another agent";
            case errc::stale_epoch:
                return "the claim's epoch is not the task's current one";
            case errc::too_many_claims:
                return "this operator holds too many open claims";
            case errc::task_closed:
                return "the task is completed";
            case errc::not_claimant:
                return "only the claimant may do this";
            case errc::over_operator_rate:
                return "the operator is over its rate for this kind of record";
            case errc::invalid_evidence:
                return "the report's evidence does not prove the violation";
            case errc::bad_request:
                return "malformed request";
            case errc::unauthorized:
                return "missing or wrong API token";
            case errc::forbidden_host:
                return "Host header is not a loopback name";
            case errc::method_not_allowed:
                return "method not allowed on this path";
            case errc::body_too_large:
                return "request body exceeds the size limit";
            case errc::unsupported_media_type:
                return "request body must be application/json";
            case errc::internal_error:
                return "internal error";
        }
        return "unknown nocturne error";
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const nocturne_category category;
    return category;
}

const char* errc_name(errc e) noexcept {
    switch (e) {
        case errc::ok:
            return "ok";
        case errc::bad_hex:
            return "bad_hex";
        case errc::bad_length:
            return "bad_length";
        case errc::frame_too_large:
            return "frame_too_large";
        case errc::too_deep:
            return "too_deep";
        case errc::malformed_json:
            return "malformed_json";
        case errc::missing_field:
            return "missing_field";
        case errc::wrong_type:
            return "wrong_type";
        case errc::unknown_field:
            return "unknown_field";
        case errc::unknown_version:
            return "unknown_version";
        case errc::unknown_message_type:
            return "unknown_message_type";
        case errc::value_out_of_range:
            return "value_out_of_range";
        case errc::bad_signature:
            return "bad_signature";
        case errc::node_id_mismatch:
            return "node_id_mismatch";
        case errc::public_key_mismatch:
            return "public_key_mismatch";
        case errc::unknown_record_kind:
            return "unknown_record_kind";
        case errc::key_mismatch:
            return "key_mismatch";
        case errc::record_too_large:
            return "record_too_large";
        case errc::ttl_out_of_range:
            return "ttl_out_of_range";
        case errc::record_expired:
            return "record_expired";
        case errc::created_in_future:
            return "created_in_future";
        case errc::stale_seq:
            return "stale_seq";
        case errc::seq_conflict:
            return "seq_conflict";
        case errc::key_file_insecure:
            return "key_file_insecure";
        case errc::key_file_malformed:
            return "key_file_malformed";
        case errc::key_file_missing:
            return "key_file_missing";
        case errc::io_error:
            return "io_error";
        case errc::store_error:
            return "store_error";
        case errc::store_schema_mismatch:
            return "store_schema_mismatch";
        case errc::not_found:
            return "not_found";
        case errc::not_responsible:
            return "not_responsible";
        case errc::timeout:
            return "timeout";
        case errc::rate_limited:
            return "rate_limited";
        case errc::unexpected_message:
            return "unexpected_message";
        case errc::remote_error:
            return "remote_error";
        case errc::unreachable:
            return "unreachable";
        case errc::bad_address:
            return "bad_address";
        case errc::quorum_unavailable:
            return "quorum_unavailable";
        case errc::unknown_agent:
            return "unknown_agent";
        case errc::untrusted_operator:
            return "untrusted_operator";
        case errc::operator_revoked:
            return "operator_revoked";
        case errc::insufficient_endorsements:
            return "insufficient_endorsements";
        case errc::insufficient_signatures:
            return "insufficient_signatures";
        case errc::certificate_expired:
            return "certificate_expired";
        case errc::too_many_agents:
            return "too_many_agents";
        case errc::agent_superseded:
            return "agent_superseded";
        case errc::network_mismatch:
            return "network_mismatch";
        case errc::untrusted_peer:
            return "untrusted_peer";
        case errc::invalid_genesis:
            return "invalid_genesis";
        case errc::wrong_subject:
            return "wrong_subject";
        case errc::trust_depth_exceeded:
            return "trust_depth_exceeded";
        case errc::duplicate_signer:
            return "duplicate_signer";
        case errc::operator_quarantined:
            return "operator_quarantined";
        case errc::genesis_protected:
            return "genesis_protected";
        case errc::vote_window_closed:
            return "vote_window_closed";
        case errc::no_commitment:
            return "no_commitment";
        case errc::reveal_mismatch:
            return "reveal_mismatch";
        case errc::equivocation:
            return "equivocation";
        case errc::duplicate_vote:
            return "duplicate_vote";
        case errc::task_claimed:
            return "task_claimed";
        case errc::stale_epoch:
            return "stale_epoch";
        case errc::too_many_claims:
            return "too_many_claims";
        case errc::task_closed:
            return "task_closed";
        case errc::not_claimant:
            return "not_claimant";
        case errc::over_operator_rate:
            return "over_operator_rate";
        case errc::invalid_evidence:
            return "invalid_evidence";
        case errc::bad_request:
            return "bad_request";
        case errc::unauthorized:
            return "unauthorized";
        case errc::forbidden_host:
            return "forbidden_host";
        case errc::method_not_allowed:
            return "method_not_allowed";
        case errc::body_too_large:
            return "body_too_large";
        case errc::unsupported_media_type:
            return "unsupported_media_type";
        case errc::internal_error:
            return "internal_error";
    }
    return "unknown";
}

std::optional<errc> errc_from_name(std::string_view name) {
    static const auto table = [] {
        std::unordered_map<std::string_view, errc> t;
        // Codes are numbered below 256; numbers without a code are named "unknown".
        for (int v = 0; v < 256; ++v) {
            const auto e = static_cast<errc>(v);
            const std::string_view n = errc_name(e);
            if (n != "unknown") t.emplace(n, e);
        }
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
