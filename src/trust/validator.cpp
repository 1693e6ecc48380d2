#include <nocturne/trust/validator.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/limits.hpp>

#include <algorithm>

namespace nocturne::trust {

TrustValidator::TrustValidator(Genesis genesis) : genesis_(std::move(genesis)) {
    for (std::size_t i = 0; i < genesis_.operators.size(); ++i) {
        genesis_index_[operator_id_of(genesis_.operators[i].public_key)] = static_cast<int>(i);
    }
}

bool TrustValidator::is_genesis(const std::string& operator_id) const {
    return genesis_index_.count(operator_id) != 0;
}

const TrustCertificate* TrustValidator::certificate(const std::string& operator_id) const {
    const auto it = certs_.find(operator_id);
    return it == certs_.end() ? nullptr : &it->second;
}

result<int> TrustValidator::operator_depth(const std::string& operator_id, std::int64_t at) const {
    DepthMemo memo;
    return depth_within(operator_id, at, genesis_.max_depth, memo);
}

bool TrustValidator::is_revoked_at(const std::string& operator_id, std::int64_t at) const {
    const auto it = revoked_.find(operator_id);
    // A revocation dated a little ahead of our clock acts at once, like any timestamp within the
    // tolerated skew.
    return it != revoked_.end() && it->second <= at + wire::default_limits.max_clock_skew_seconds;
}

int TrustValidator::genesis_signers_needed() const noexcept {
    return static_cast<int>(genesis_.operators.size() / 2) + 1;
}

// budget: how many endorsement steps from genesis are still allowed. Every recursion spends one,
// so cycles in the endorsement graph terminate and the work is bounded by
// endorsements^max_depth map lookups (no signature checks: those happened on arrival).
result<int> TrustValidator::depth_within(const std::string& operator_id, std::int64_t now,
                                         int budget, DepthMemo& memo) const {
    if (is_revoked_at(operator_id, now)) return make_error_code(errc::operator_revoked);
    if (is_genesis(operator_id)) return 0;
    const auto* cert = certificate(operator_id);
    if (cert == nullptr) return make_error_code(errc::untrusted_operator);
    if (budget <= 0) return make_error_code(errc::trust_depth_exceeded);
    // Its signatures were verified when it was added.
    // One answer per (operator, budget) within a question: a dense endorsement graph would
    // otherwise cost endorsements^max_depth steps.
    const auto key = std::make_pair(operator_id, budget);
    if (const auto it = memo.find(key); it != memo.end()) return it->second;
    auto verdict = evaluate_within(*cert, now, budget, false, memo);
    result<int> out = verdict.error ? result<int>(verdict.error) : result<int>(verdict.depth);
    memo.emplace(key, out);
    return out;
}

TrustValidator::CertificateVerdict TrustValidator::evaluate(const TrustCertificate& cert,
                                                            std::int64_t now) const {
    DepthMemo memo;
    return evaluate_within(cert, now, genesis_.max_depth, true, memo);
}

TrustValidator::CertificateVerdict TrustValidator::evaluate_within(const TrustCertificate& cert,
                                                                   std::int64_t now, int budget,
                                                                   bool verify,
                                                                   DepthMemo& memo) const {
    CertificateVerdict v;
    const auto skew = wire::default_limits.max_clock_skew_seconds;
    if (cert.network != genesis_.network) {
        v.error = make_error_code(errc::network_mismatch);
    } else if (cert.operator_id != operator_id_of(cert.public_key)) {
        v.error = make_error_code(errc::key_mismatch);
    } else if (is_revoked_at(cert.operator_id, now)) {
        v.error = make_error_code(errc::operator_revoked);
    } else if (cert.created_at > now + skew || cert.expires_at <= now ||
               cert.expires_at <= cert.created_at) {
        v.error = make_error_code(errc::certificate_expired);
    } else if (cert.max_agents < 1 || cert.max_agents > wire::max_agent_index + 1 ||
               !is_valid_label(cert.label)) {
        v.error = make_error_code(errc::value_out_of_range);
    }
    std::vector<int> depths;
    std::set<std::string> seen;
    int forged = 0;
    for (const auto& e : cert.endorsements) {
        EndorsementVerdict ev;
        ev.endorser_id = operator_id_of(e.endorser);
        // Cheap checks first, the signature last and only for an endorser that would count: a
        // certificate full of made-up endorsements costs map lookups, not Ed25519 verifications.
        if (e.subject != cert.public_key) {
            ev.error = make_error_code(errc::wrong_subject);
        } else if (e.timestamp > now + skew) {
            ev.error = make_error_code(errc::created_in_future);
        } else if (ev.endorser_id == cert.operator_id) {
            ev.error = make_error_code(errc::wrong_subject);  // nobody endorses themselves
        } else if (!seen.insert(ev.endorser_id).second) {
            ev.error = make_error_code(errc::duplicate_signer);
        } else if (auto depth = depth_within(ev.endorser_id, now, budget - 1, memo); !depth) {
            ev.error = depth.error();
        } else if (auto bad = verify ? verify_endorsement(e, e.endorser, cert.public_key)
                                     : std::error_code{}) {
            ev.error = bad;
            ++forged;
        } else {
            ev.endorser_depth = *depth;
            depths.push_back(*depth);
        }
        v.endorsements.push_back(std::move(ev));
        // An honest certificate carries no forged endorsement: stop paying for a forger's.
        if (forged >= genesis_.min_endorsements) {
            v.error = make_error_code(errc::bad_signature);
            return v;
        }
    }
    v.counted = static_cast<int>(depths.size());
    if (v.error) return v;
    if (v.counted < genesis_.min_endorsements) {
        // Say "too deep" when that is what kept an endorsement from counting: the fix differs
        // (endorsers closer to genesis), and chains of any length then report the same reason.
        const bool depth_limited =
            std::any_of(v.endorsements.begin(), v.endorsements.end(),
                        [](const auto& e) { return e.error == errc::trust_depth_exceeded; });
        v.error = make_error_code(depth_limited ? errc::trust_depth_exceeded
                                                : errc::insufficient_endorsements);
        return v;
    }
    // The certificate stands on its min_endorsements closest endorsers.
    std::sort(depths.begin(), depths.end());
    v.depth = 1 + depths[static_cast<std::size_t>(genesis_.min_endorsements - 1)];
    return v;
}

std::error_code TrustValidator::add_certificate(const TrustCertificate& cert, std::int64_t at) {
    if (is_genesis(cert.operator_id)) return {};  // genesis.json already says all there is
    const auto verdict = evaluate(cert, at);
    if (verdict.error) return verdict.error;
    // Keep only the endorsements whose signatures were verified just now. Later evaluations of a
    // stored certificate do not verify again, so one that was skipped here (an endorser not yet
    // trusted, a timestamp in the future) must never be able to count later.
    TrustCertificate kept = cert;
    kept.endorsements.clear();
    for (std::size_t i = 0; i < cert.endorsements.size(); ++i) {
        if (!verdict.endorsements[i].error) kept.endorsements.push_back(cert.endorsements[i]);
    }
    auto [it, inserted] = certs_.try_emplace(cert.operator_id, kept);
    if (!inserted && cert.created_at >= it->second.created_at) it->second = std::move(kept);
    return {};
}

result<int> TrustValidator::max_agents(const std::string& operator_id, std::int64_t now) const {
    auto depth = operator_depth(operator_id, now);
    if (!depth) return depth.error();
    if (const auto it = genesis_index_.find(operator_id); it != genesis_index_.end()) {
        return genesis_.operators[static_cast<std::size_t>(it->second)].max_agents;
    }
    return certificate(operator_id)->max_agents;
}

std::error_code TrustValidator::validate_revocation(const RevocationCertificate& rev,
                                                    std::int64_t now) const {
    if (rev.network != genesis_.network) return make_error_code(errc::network_mismatch);
    if (!wire::is_valid_id(rev.operator_id)) return make_error_code(errc::value_out_of_range);
    if (rev.timestamp > now + wire::default_limits.max_clock_skew_seconds) {
        return make_error_code(errc::created_in_future);
    }
    return check_signers(rev.operator_id, rev.timestamp, rev.signatures,
                         revocation_message(rev.operator_id, rev.timestamp, rev.reason));
}

std::error_code TrustValidator::validate_quarantine(const QuarantineOrder& order,
                                                    std::int64_t now) const {
    if (order.network != genesis_.network) return make_error_code(errc::network_mismatch);
    if (auto ec = check_quarantine_fields(order)) return ec;
    if (order.timestamp > now + wire::default_limits.max_clock_skew_seconds) {
        return make_error_code(errc::created_in_future);
    }
    return check_signers(order.operator_id, order.timestamp, order.signatures,
                         quarantine_message(order));
}

std::error_code TrustValidator::check_signers(const std::string& target, std::int64_t at,
                                              const std::vector<RevocationSignature>& signatures,
                                              const std::string& message) const {
    const bytes_view signed_bytes(reinterpret_cast<const std::uint8_t*>(message.data()),
                                  message.size());
    const bool of_genesis = is_genesis(target);
    const int needed = of_genesis ? genesis_signers_needed() : genesis_.revocation_threshold;
    std::set<std::string> seen;
    int counted = 0;
    int forged = 0;
    int protected_refusals = 0;
    for (const auto& s : signatures) {
        const auto signer_id = operator_id_of(s.signer);
        if (signer_id == target || !seen.insert(signer_id).second) continue;
        if (of_genesis && !is_genesis(signer_id)) {
            ++protected_refusals;
            continue;
        }
        // Trust first, at the statement's own time: only a signature of an operator trusted
        // then is worth verifying.
        if (!operator_depth(signer_id, at)) continue;
        if (!crypto::verify(s.signer, signed_bytes, s.sig)) {
            if (++forged >= needed) break;
            continue;
        }
        if (++counted >= needed) return {};
    }
    // Enough signatures, but of operators whose word does not count against a genesis operator.
    if (of_genesis && counted + protected_refusals >= genesis_.revocation_threshold) {
        return make_error_code(errc::genesis_protected);
    }
    return make_error_code(errc::insufficient_signatures);
}

std::error_code TrustValidator::apply_revocation(const RevocationCertificate& rev,
                                                 std::int64_t now) {
    if (auto ec = validate_revocation(rev, now)) return ec;
    restore_revocation(rev);
    return {};
}

void TrustValidator::restore_revocation(const RevocationCertificate& rev) {
    auto [it, inserted] = revoked_.try_emplace(rev.operator_id, rev.timestamp);
    if (!inserted) it->second = std::min(it->second, rev.timestamp);
}

}  // namespace nocturne::trust
