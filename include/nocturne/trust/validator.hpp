#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/quarantine.hpp>
#include <nocturne/trust/revocation.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nocturne::trust {

// The Web of Trust's rules over what this node knows: the genesis operators, the certificates it
// accepted, and the revocations it applied. Trust is recomputed from these on every question, so
// a revocation or an expiry takes effect at once, including for operators whose endorsements
// leaned on the revoked one. Only certificates that were trusted when they arrived are kept:
// someone minting keys cannot grow this state.
//
// Every question names a time: "is this operator trusted at t". A revocation counts from its own
// timestamp on, so an operator revoked today was still trusted last month, and a revocation is
// judged by its signers' standing at its own time: one that was valid when issued stays valid
// when a signer is revoked or its certificate expires later.
//
// Owned by the thread that owns the node (the daemon's io_context); not thread-safe.
class TrustValidator {
public:
    struct EndorsementVerdict {
        std::string endorser_id;
        std::error_code error;  // why it does not count, or success
        int endorser_depth = -1;
    };
    struct CertificateVerdict {
        std::error_code error;  // success when the certificate is valid
        int depth = -1;         // distance from genesis when valid
        int counted = 0;        // distinct trusted endorsers
        std::vector<EndorsementVerdict> endorsements;
    };

    explicit TrustValidator(Genesis genesis);

    const Genesis& genesis() const noexcept { return genesis_; }

    // Checks a certificate at `now`: its network, lifetime and fields; every endorsement signed
    // over this key; endorsers trusted and unrevoked within max_depth - 1 of genesis, each counted
    // once.
    CertificateVerdict evaluate(const TrustCertificate& cert, std::int64_t now) const;
    std::error_code validate_certificate(const TrustCertificate& cert, std::int64_t now) const {
        return evaluate(cert, now).error;
    }
    // Validates the certificate at `at` and remembers it (a later one replaces an earlier one).
    // `at` is now, except for the certificates of a revocation's signers, judged at its time.
    std::error_code add_certificate(const TrustCertificate& cert, std::int64_t at);

    // An operator's distance from genesis (0 for genesis operators) when trusted at `at`:
    // operator_revoked (a revocation dated at or before `at`), untrusted_operator (unknown),
    // certificate_expired, or insufficient_endorsements (its endorsers lost standing) otherwise.
    result<int> operator_depth(const std::string& operator_id, std::int64_t at) const;
    bool is_trusted(const std::string& operator_id, std::int64_t now) const {
        return operator_depth(operator_id, now).has_value();
    }
    // max_agents of a trusted operator (genesis.json or its certificate).
    result<int> max_agents(const std::string& operator_id, std::int64_t now) const;
    const TrustCertificate* certificate(const std::string& operator_id) const;
    bool is_genesis(const std::string& operator_id) const;

    // The signers (other than the target, each counted once) were trusted at the revocation's
    // timestamp, which is not in the future at `now`, and there are enough of them: for an
    // ordinary operator revocation_threshold trusted operators; for a genesis operator, a
    // majority of the genesis operators (genesis_signers_needed()), genesis signatures only, so
    // that operators endorsed into the web cannot remove the ones that anchor it.
    std::error_code validate_revocation(const RevocationCertificate& rev, std::int64_t now) const;
    // A quarantine (hold or lift) needs the same signers as a revocation of that operator, at
    // the order's timestamp; its fields must be valid (check_quarantine_fields).
    std::error_code validate_quarantine(const QuarantineOrder& order, std::int64_t now) const;
    std::error_code apply_revocation(const RevocationCertificate& rev, std::int64_t now);
    // Applies a revocation this node validated before (kept across restarts): not judged again,
    // since what made it valid (its signers' certificates) may have expired since.
    void restore_revocation(const RevocationCertificate& rev);
    // Genesis signatures a genesis operator's revocation needs: a majority of all genesis
    // operators (more than half), the target not among the signers.
    int genesis_signers_needed() const noexcept;
    bool is_revoked(const std::string& operator_id) const {
        return revoked_.count(operator_id) != 0;
    }
    // Revoked by a revocation dated at or before `at` (within the clock skew).
    bool is_revoked_at(const std::string& operator_id, std::int64_t at) const;
    std::size_t certificate_count() const noexcept { return certs_.size(); }
    std::size_t revocation_count() const noexcept { return revoked_.size(); }

private:
    using DepthMemo = std::map<std::pair<std::string, int>, result<int>>;

    // The signers' rule of revocations and quarantines: enough distinct signers other than the
    // target, trusted at `at`, whose signatures over `message` verify.
    std::error_code check_signers(const std::string& target, std::int64_t at,
                                  const std::vector<RevocationSignature>& signatures,
                                  const std::string& message) const;
    result<int> depth_within(const std::string& operator_id, std::int64_t now, int budget,
                             DepthMemo& memo) const;
    // verify: check endorsement signatures (a new certificate); stored ones were checked once.
    CertificateVerdict evaluate_within(const TrustCertificate& cert, std::int64_t now, int budget,
                                       bool verify, DepthMemo& memo) const;

    Genesis genesis_;
    std::map<std::string, int> genesis_index_;  // operator id -> index in genesis_.operators
    std::map<std::string, TrustCertificate> certs_;
    std::map<std::string, std::int64_t> revoked_;  // operator id -> earliest revocation time
};

}  // namespace nocturne::trust
