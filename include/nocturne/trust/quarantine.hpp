#pragma once

// A quarantine: trusted operators hold another operator's writes and votes for a while, after an
// anomaly report (anomaly_report.hpp) or their own judgement; the same threshold lifts it early.
// A hold, not a verdict of compromise (that is a revocation): the operator keeps its standing,
// its nodes still route and hold others' records, and its writes are taken again when the hold
// ends.

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/trust/revocation.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::trust {

enum class QuarantineAction { hold, lift };
const char* to_string(QuarantineAction action) noexcept;

// Signed by at least revocation_threshold trusted operators (a genesis operator: a majority of
// genesis, like a revocation) over
//   "QUARANTINE:" network ":" action ":" operator_id ":" timestamp ":" until ":" report ":"
//   reason
// (the reason last, so any text is unambiguous). Published as a `quarantine` record at
// prefix_key("quarantine", operator_id), slot = action, seq = timestamp, authored by one of the
// signers. Of an operator's orders the one with the latest timestamp stands (a lift over a hold
// at the same time).
struct QuarantineOrder {
    std::string network;
    std::string operator_id;  // the operator held
    QuarantineAction action = QuarantineAction::hold;
    std::int64_t timestamp = 0;  // unix seconds: the hold (or the lift) starts
    std::int64_t until =
        0;  // a hold ends here (at most max_quarantine_seconds on); a lift: = timestamp
    std::string report;  // hex id of the anomaly report it rests on, or ""
    std::string reason;
    std::vector<RevocationSignature> signatures;

    bool holds_at(std::int64_t t) const noexcept {
        return action == QuarantineAction::hold && timestamp <= t && t < until;
    }
};

inline constexpr std::int64_t max_quarantine_seconds = 30 * 86400;

std::string quarantine_message(const QuarantineOrder& order);
RevocationSignature sign_quarantine(const crypto::KeyPair& signer, const QuarantineOrder& order);
// bad_signature when it does not verify; no trust judgement (see TrustValidator).
std::error_code verify_quarantine_signature(const RevocationSignature& signature,
                                            const QuarantineOrder& order);
// Syntax and times: a valid operator id, reason and report id; a hold of 1 s to
// max_quarantine_seconds, a lift with until == timestamp. value_out_of_range otherwise.
std::error_code check_quarantine_fields(const QuarantineOrder& order);

// One signer's part, as `nocturne-agent quarantine sign` writes it (the order with one
// signature). Parsing checks the fields and the signature.
std::string encode_quarantine_share(const QuarantineOrder& share);
result<QuarantineOrder> parse_quarantine_share(std::string_view text);
// All shares must state the same order (value_out_of_range).
result<QuarantineOrder> combine_quarantine_shares(const std::vector<QuarantineOrder>& shares);

std::string quarantine_payload(const QuarantineOrder& order);
// Checks the kind, the fields, seq = timestamp, and that the author is one of the signers; the
// signatures are TrustValidator::validate_quarantine's business.
result<QuarantineOrder> quarantine_from_record(const wire::Record& record);
// created = now; expires when the hold ends (a lift: when any hold it can lift would have).
result<wire::Record> sign_quarantine_record(const QuarantineOrder& order,
                                            const crypto::KeyPair& author, std::int64_t now);

}  // namespace nocturne::trust
