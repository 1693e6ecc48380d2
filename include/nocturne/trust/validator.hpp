#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/genesis.hpp>
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
    // Validates and remembers the certificate (a later one replaces an earlier one).
    std::error_code add_certificate(const TrustCertificate& cert, std::int64_t now);

    // An operator's distance from genesis (0 for genesis operators) when trusted at `now`:
    // operator_revoked, untrusted_operator (unknown), certificate_expired, or
    // insufficient_endorsements (its endorsers lost standing) otherwise.
    result<int> operator_depth(const std::string& operator_id, std::int64_t now) const;
    bool is_trusted(const std::string& operator_id, std::int64_t now) const {
        return operator_depth(operator_id, now).has_value();
    }
    // max_agents of a trusted operator (genesis.json or its certificate).
    result<int> max_agents(const std::string& operator_id, std::int64_t now) const;
    const TrustCertificate* certificate(const std::string& operator_id) const;
    bool is_genesis(const std::string& operator_id) const;

    // At least revocation_threshold distinct operators, trusted at `now` and other than the
    // target, signed it.
    std::error_code validate_revocation(const RevocationCertificate& rev, std::int64_t now) const;
    std::error_code apply_revocation(const RevocationCertificate& rev, std::int64_t now);
    bool is_revoked(const std::string& operator_id) const {
        return revoked_.count(operator_id) != 0;
    }
    std::size_t certificate_count() const noexcept { return certs_.size(); }
    std::size_t revocation_count() const noexcept { return revoked_.size(); }

private:
    using DepthMemo = std::map<std::pair<std::string, int>, result<int>>;

    result<int> depth_within(const std::string& operator_id, std::int64_t now, int budget,
                             DepthMemo& memo) const;
    // verify: check endorsement signatures (a new certificate); stored ones were checked once.
    CertificateVerdict evaluate_within(const TrustCertificate& cert, std::int64_t now, int budget,
                                       bool verify, DepthMemo& memo) const;

    Genesis genesis_;
    std::map<std::string, int> genesis_index_;  // operator id -> index in genesis_.operators
    std::map<std::string, TrustCertificate> certs_;
    std::set<std::string> revoked_;
};

}  // namespace nocturne::trust
