#include <nocturne/core/hex.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/wire/limits.hpp>

#include <algorithm>
#include <set>

namespace nocturne::trust {
namespace {

constexpr std::size_t max_rejected = 4096;
constexpr std::size_t max_known = 65'536;

NodeId node_id_of(const crypto::PublicKey& key) {
    return NodeId::from_public_key(key).value();
}

}  // namespace

TrustState::TrustState(Genesis genesis, store::Store& persist, std::int64_t now)
    : validator_(std::move(genesis)), persist_(persist) {
    std::vector<wire::Record> all;
    if (auto keys = persist_.list_keys()) {
        for (const auto& key : *keys) {
            if (auto records = persist_.get(key, now)) {
                all.insert(all.end(), records->begin(), records->end());
            }
        }
    } else {
        ++stats_.persist_errors;
    }
    // Revocations and quarantine orders were validated before they were kept: they stand,
    // whatever became of their signers since (one valid when issued stays valid).
    for (const auto& r : all) {
        if (r.kind == wire::RecordKind::quarantine) {
            auto order = quarantine_from_record(r);
            if (!order || order->network != validator_.genesis().network) continue;
            const auto it = quarantines_.find(order->operator_id);
            if (it == quarantines_.end() || supersedes(*order, it->second.order)) {
                const auto op = order->operator_id;
                quarantines_.insert_or_assign(op, Quarantine{std::move(*order), r});
                remember(r, op, {});
            }
            continue;
        }
        if (r.kind != wire::RecordKind::revocation) continue;
        if (auto rev = revocation_from_record(r);
            rev && rev->network == validator_.genesis().network) {
            validator_.restore_revocation(*rev);
            revocation_records_.try_emplace(rev->operator_id, r);
            remember(r, rev->operator_id, {});
        }
    }
    learn_all(all, now);
}

std::error_code TrustState::learn(const wire::Record& record, std::int64_t now,
                                  std::span<const wire::Record> credentials) {
    if (auto ec = wire::check_record_time(record, now)) return ec;
    // Every STORE carries the same few certificates: answer from what they established before
    // instead of verifying their endorsements again. Their standing may have changed since.
    if (const auto known = known_.find(record.sig); known != known_.end()) {
        switch (record.kind) {
            case wire::RecordKind::cert: {
                auto depth = validator_.operator_depth(known->second.operator_id, now);
                return depth ? std::error_code{} : depth.error().code();
            }
            case wire::RecordKind::agent_cert: {
                auto standing = agent_standing(known->second.agent, now);
                return standing ? std::error_code{} : standing.error().code();
            }
            default:
                return {};
        }
    }
    if (rejected_.count(record.sig) != 0) return make_error_code(errc::bad_signature);
    std::error_code ec;
    switch (record.kind) {
        case wire::RecordKind::cert:
            ec = learn_certificate(record, now);
            break;
        case wire::RecordKind::agent_cert:
            ec = learn_agent(record, now);
            break;
        case wire::RecordKind::revocation:
            ec = learn_revocation(record, now, credentials);
            break;
        case wire::RecordKind::quarantine:
            ec = learn_quarantine(record, now, credentials);
            break;
        case wire::RecordKind::anomaly:
            ec = learn_report(record, now);
            break;
        default:
            return make_error_code(errc::unknown_record_kind);
    }
    if (ec) {
        ++stats_.rejected;
        // A forged endorsement or signature stays forged, and evidence that does not prove its
        // violation never will: do not verify it again when the same record comes back. (Other
        // refusals may heal, e.g. once an endorser's certificate arrives.)
        if (ec == errc::bad_signature || ec == errc::invalid_evidence) {
            if (rejected_.size() >= max_rejected) rejected_.clear();
            rejected_.insert(record.sig);
        }
    } else {
        keep(record);
    }
    return ec;
}

void TrustState::remember(const wire::Record& record, std::string operator_id, NodeId agent) {
    // A cache of verdicts: forgetting it costs verifications again, never a wrong answer. Bounded,
    // since an operator can sign new versions of its certificates without end.
    if (known_.size() >= max_known) known_.clear();
    known_.insert_or_assign(record.sig, Known{std::move(operator_id), agent});
}

std::size_t TrustState::learn_all(std::span<const wire::Record> records, std::int64_t now) {
    std::vector<const wire::Record*> pending;
    for (const auto& r : records)
        if (is_trust_kind(r.kind)) pending.push_back(&r);
    std::size_t learned = 0;
    for (bool progress = true; progress && !pending.empty();) {
        progress = false;
        for (auto it = pending.begin(); it != pending.end();) {
            if (!learn(**it, now, records)) {
                ++learned;
                progress = true;
                it = pending.erase(it);
            } else {
                ++it;
            }
        }
    }
    return learned;
}

std::vector<wire::Record> TrustState::records() const {
    std::vector<wire::Record> out;
    out.reserve(cert_records_.size() + agents_.size() + revocation_records_.size());
    for (const auto& [id, r] : cert_records_) out.push_back(r);
    for (const auto& [id, a] : agents_) out.push_back(a.record);
    for (const auto& [id, r] : revocation_records_) out.push_back(r);
    for (const auto& [id, q] : quarantines_) out.push_back(q.record);
    for (const auto& r : reports_) out.push_back(r.record);
    return out;
}

void TrustState::keep(const wire::Record& record) {
    ++stats_.learned;
    if (on_learned_) on_learned_(record);
    // Reports are many and short-lived: kept in memory (a restarted node catches up by gossip).
    if (record.kind == wire::RecordKind::anomaly) return;
    if (auto stored = persist_.put(record);
        !stored && stored.error() != errc::stale_seq && stored.error() != errc::seq_conflict) {
        ++stats_.persist_errors;
    }
}

std::error_code TrustState::learn_certificate(const wire::Record& record, std::int64_t now) {
    auto cert = certificate_from_record(record);
    if (!cert) return cert.error();
    if (auto ec = validator_.add_certificate(*cert, now)) return ec;
    ++standing_epoch_;
    auto [it, inserted] = cert_records_.try_emplace(cert->operator_id, record);
    if (!inserted && record.created >= it->second.created) it->second = record;
    remember(record, cert->operator_id, {});
    return {};
}

std::error_code TrustState::learn_agent(const wire::Record& record, std::int64_t now) {
    auto cert = agent_certificate_from_record(record);
    if (!cert) return cert.error();
    if (cert->network != genesis().network) return make_error_code(errc::network_mismatch);
    auto max = validator_.max_agents(cert->operator_id, now);
    if (!max) return max.error();
    if (cert->agent_index >= *max) return make_error_code(errc::too_many_agents);

    const auto agent = node_id_of(cert->agent_key);
    const Slot slot{cert->operator_id, cert->agent_index};
    if (const auto holder = slot_holders_.find(slot); holder != slot_holders_.end()) {
        const auto it = agents_.find(holder->second);
        // The holder's entry may since describe another slot (the agent moved): then it no
        // longer competes for this one.
        if (it != agents_.end() &&
            Slot{it->second.cert.operator_id, it->second.cert.agent_index} == slot) {
            const auto& current = it->second.cert;
            if (current.seq > cert->seq) return make_error_code(errc::agent_superseded);
            if (current.seq == cert->seq && current.agent_key != cert->agent_key) {
                return make_error_code(errc::seq_conflict);
            }
        }
    }
    // An agent holds one slot: the one it held before (under this operator or another, both with
    // its consent) is freed.
    if (const auto it = agents_.find(agent); it != agents_.end()) {
        const Slot previous{it->second.cert.operator_id, it->second.cert.agent_index};
        if (const auto h = slot_holders_.find(previous);
            previous != slot && h != slot_holders_.end() && h->second == agent) {
            slot_holders_.erase(h);
        }
    }
    if (const auto holder = slot_holders_.find(slot);
        holder != slot_holders_.end() && holder->second != agent) {
        ++standing_epoch_;  // the slot's previous holder loses its standing
    }
    slot_holders_[slot] = agent;
    remember(record, cert->operator_id, agent);
    agents_.insert_or_assign(agent, AgentEntry{std::move(*cert), record});
    return {};
}

std::error_code TrustState::learn_revocation(const wire::Record& record, std::int64_t now,
                                             std::span<const wire::Record> credentials) {
    auto rev = revocation_from_record(record);
    if (!rev) return rev.error();
    // One revocation of an operator is enough: another (re-signed, with other signers) dated no
    // earlier adds nothing, and is neither verified nor kept. Otherwise anyone could re-wrap a
    // public revocation into any number of new records for the mesh to carry.
    if (validator_.is_revoked_at(rev->operator_id, rev->timestamp)) {
        return make_error_code(errc::operator_revoked);
    }
    adopt_signer_certificates(rev->signatures, rev->timestamp, now, credentials);
    if (auto ec = validator_.apply_revocation(*rev, now)) return ec;
    ++standing_epoch_;
    revocation_records_.try_emplace(rev->operator_id, record);
    remember(record, rev->operator_id, {});
    return {};
}

void TrustState::adopt_signer_certificates(const std::vector<RevocationSignature>& signatures,
                                           std::int64_t at, std::int64_t now,
                                           std::span<const wire::Record> credentials) {
    // A signer certificate that has expired since is still good evidence of its standing then
    // (validated at that time, and only the signers' certificates: at most max_credentials of
    // them come with one record).
    if (at > now) return;
    for (const auto& c : credentials) {
        if (c.kind != wire::RecordKind::cert) continue;
        auto cert = certificate_from_record(c);
        if (!cert || validator_.operator_depth(cert->operator_id, at)) continue;
        const bool signer =
            std::any_of(signatures.begin(), signatures.end(),
                        [&](const RevocationSignature& s) { return s.signer == cert->public_key; });
        if (signer) (void)validator_.add_certificate(*cert, at);
    }
}

std::error_code TrustState::learn_quarantine(const wire::Record& record, std::int64_t now,
                                             std::span<const wire::Record> credentials) {
    auto order = quarantine_from_record(record);
    if (!order) return order.error();
    // Only a later order changes anything: an older one, or the same again re-signed, is
    // neither verified nor kept.
    if (const auto it = quarantines_.find(order->operator_id); it != quarantines_.end()) {
        if (!supersedes(*order, it->second.order)) {
            return make_error_code(errc::stale_seq);
        }
    }
    adopt_signer_certificates(order->signatures, order->timestamp, now, credentials);
    if (auto ec = validator_.validate_quarantine(*order, now)) return ec;
    // Its author signed it too (it is one of the signers the validator may not have needed):
    // nobody re-publishes others' orders under their own name.
    for (const auto& s : order->signatures) {
        if (s.signer == record.author && verify_quarantine_signature(s, *order)) {
            return make_error_code(errc::bad_signature);
        }
    }
    const auto op = order->operator_id;
    quarantines_.insert_or_assign(op, Quarantine{std::move(*order), record});
    remember(record, op, {});
    return {};
}

bool TrustState::supersedes(const QuarantineOrder& order, const QuarantineOrder& current) {
    if (order.timestamp != current.timestamp) return order.timestamp > current.timestamp;
    // At the same time a lift wins; two different orders of one kind: the one every node picks
    // alike, by what was signed. The same order again (re-published, re-signed by one more
    // signer) changes nothing.
    if (order.action != current.action) return order.action == QuarantineAction::lift;
    const auto a = quarantine_message(order), b = quarantine_message(current);
    if (a == b) return false;
    return sha256(as_bytes(a)) > sha256(as_bytes(b));
}

std::error_code TrustState::learn_report(const wire::Record& record, std::int64_t now) {
    // The reporter first (a map lookup): a report by anyone else is not worth decoding.
    auto reporter = agent_standing(node_id_of(record.author), now);
    if (!reporter) return reporter.error();
    auto report = report_from_record(record, genesis().anomaly);
    if (!report) return report.error();
    if (report->network != genesis().network) return make_error_code(errc::network_mismatch);
    if (auto depth = validator_.operator_depth(report->operator_id, now); !depth) {
        return depth.error();
    }
    if (auto ec = verify_report(*report, genesis().anomaly)) return ec;
    const auto at = violation_time(*report);
    if (at + report_lifetime_seconds <= now) return make_error_code(errc::record_expired);
    // The accused agents hold their slots now, as far as this node knows: a key the operator
    // has since replaced (a retired laptop's, say) is not its to answer for. Their
    // certificates came with the report.
    learn_all(report->agents, now);
    // (What depends on this node's view is not held against the report for good, nor against
    // its sender: another node may know more.)
    for (const auto& e : report->evidence) {
        auto standing = agent_standing(node_id_of(e.author), now);
        if (!standing) return standing.error();
        if (standing->operator_id != report->operator_id) {
            return make_error_code(errc::wrong_subject);
        }
    }

    // Bounded: a reporter's newer report on the same operator and rule replaces its older one;
    // a reporter keeps its latest max_reports_per_reporter, everyone together max_reports.
    std::erase_if(reports_, [&](const Report& r) {
        return r.reporter_operator == reporter->operator_id &&
               r.operator_id == report->operator_id && r.type == report->type;
    });
    const auto mine = static_cast<std::size_t>(std::count_if(
        reports_.begin(), reports_.end(),
        [&](const Report& r) { return r.reporter_operator == reporter->operator_id; }));
    if (mine >= max_reports_per_reporter) {
        reports_.erase(std::find_if(reports_.begin(), reports_.end(), [&](const Report& r) {
            return r.reporter_operator == reporter->operator_id;
        }));
    }
    if (reports_.size() >= max_reports) reports_.pop_front();
    const auto digest = sha256(bytes_view(record.sig.data(), record.sig.size()));
    reports_.push_back(Report{record, to_hex(digest), reporter->operator_id, report->operator_id,
                              report->type, at, report->evidence.size()});
    remember(record, report->operator_id, {});
    return {};
}

const std::string* TrustState::operator_of(const NodeId& agent) const {
    const auto it = agents_.find(agent);
    return it == agents_.end() ? nullptr : &it->second.cert.operator_id;
}

const QuarantineOrder* TrustState::quarantine_of(const std::string& operator_id,
                                                 std::int64_t now) const {
    const auto it = quarantines_.find(operator_id);
    if (it == quarantines_.end()) return nullptr;
    // A hold dated a little ahead of our clock acts at once, like any time within the skew.
    const auto& order = it->second.order;
    const bool holds = order.action == QuarantineAction::hold &&
                       order.timestamp <= now + wire::default_limits.max_clock_skew_seconds &&
                       now < order.until;
    return holds ? &order : nullptr;
}

std::vector<QuarantineOrder> TrustState::quarantine_orders() const {
    std::vector<QuarantineOrder> out;
    for (const auto& [id, q] : quarantines_) out.push_back(q.order);
    return out;
}

result<TrustState::AgentStanding> TrustState::agent_standing(const NodeId& agent,
                                                             std::int64_t now) const {
    const auto it = agents_.find(agent);
    if (it == agents_.end()) return make_error_code(errc::unknown_agent);
    const auto& cert = it->second.cert;
    if (cert.expires_at <= now) return make_error_code(errc::certificate_expired);
    const auto holder = slot_holders_.find({cert.operator_id, cert.agent_index});
    if (holder == slot_holders_.end() || holder->second != agent) {
        return make_error_code(errc::agent_superseded);
    }
    auto max = validator_.max_agents(cert.operator_id, now);
    if (!max) return max.error();
    if (cert.agent_index >= *max) return make_error_code(errc::too_many_agents);
    return AgentStanding{cert.operator_id, cert.agent_index,
                         validator_.operator_depth(cert.operator_id, now).value()};
}

std::error_code TrustState::check_record(const wire::Record& record, std::int64_t now,
                                         std::span<const wire::Record> credentials) {
    if (is_trust_kind(record.kind)) return learn(record, now, credentials);
    auto standing = agent_standing(node_id_of(record.author), now);
    return standing ? std::error_code{} : standing.error().code();
}

void TrustState::add_chains(std::vector<std::string> operators, std::vector<wire::Record>& out,
                            std::size_t limit) const {
    // Breadth first, so that when the limit cuts, the certificates nearest the record stay.
    std::set<std::string> seen;
    for (int level = 0; level < genesis().max_depth && !operators.empty(); ++level) {
        std::vector<std::string> next;
        for (const auto& op : operators) {
            if (!seen.insert(op).second || validator_.is_genesis(op)) continue;
            const auto it = cert_records_.find(op);
            if (it == cert_records_.end()) continue;
            if (out.size() >= limit) return;
            out.push_back(it->second);
            for (const auto& e : validator_.certificate(op)->endorsements) {
                next.push_back(operator_id_of(e.endorser));
            }
        }
        operators = std::move(next);
    }
}

std::vector<wire::Record> TrustState::agent_credentials(const NodeId& agent,
                                                        std::size_t limit) const {
    std::vector<wire::Record> out;
    const auto it = agents_.find(agent);
    if (it == agents_.end() || limit == 0) return out;
    out.push_back(it->second.record);
    add_chains({it->second.cert.operator_id}, out, limit);
    return out;
}

std::vector<wire::Record> TrustState::credentials_for(const wire::Record& record,
                                                      std::size_t limit) const {
    std::vector<wire::Record> out;
    switch (record.kind) {
        case wire::RecordKind::cert:
            if (auto cert = certificate_from_record(record)) {
                std::vector<std::string> endorsers;
                for (const auto& e : cert->endorsements) {
                    endorsers.push_back(operator_id_of(e.endorser));
                }
                add_chains(std::move(endorsers), out, limit);
            }
            break;
        case wire::RecordKind::agent_cert:
            // Its author is its operator: no need to parse (and verify) the certificate again.
            add_chains({operator_id_of(record.author)}, out, limit);
            break;
        case wire::RecordKind::revocation:
            if (auto rev = revocation_from_record(record)) {
                std::vector<std::string> signers;
                for (const auto& s : rev->signatures) signers.push_back(operator_id_of(s.signer));
                add_chains(std::move(signers), out, limit);
            }
            break;
        case wire::RecordKind::quarantine:
            if (auto order = quarantine_from_record(record)) {
                std::vector<std::string> signers;
                for (const auto& s : order->signatures) {
                    signers.push_back(operator_id_of(s.signer));
                }
                add_chains(std::move(signers), out, limit);
            }
            break;
        default:
            out = agent_credentials(node_id_of(record.author), limit);
            break;
    }
    return out;
}

std::vector<std::string> TrustState::known_operators() const {
    std::vector<std::string> out;
    for (const auto& op : genesis().operators) {
        auto id = operator_id_of(op.public_key);
        if (!validator_.is_revoked(id)) out.push_back(std::move(id));
    }
    for (const auto& [id, record] : cert_records_) {
        if (!validator_.is_revoked(id)) out.push_back(id);
    }
    return out;
}

}  // namespace nocturne::trust
