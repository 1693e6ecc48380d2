#include <nocturne/app/quarantine_commands.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <cmath>

#include "command_support.hpp"

namespace nocturne::app {

using namespace detail;

int run_quarantine_sign(const QuarantineSignOptions& opts, const trust::Genesis& genesis,
                        std::int64_t now, std::ostream& out, std::ostream& err) {
    trust::QuarantineOrder order;
    if (opts.join) {
        auto text = read_file(*opts.join, max_trust_file_bytes);
        if (!text) {
            return fail(err, "cannot read " + opts.join->string() + ": " + describe(text.error()));
        }
        auto first = trust::parse_quarantine_share(*text);
        if (!first) {
            return fail(err, opts.join->string() + " is not a valid quarantine signature: " +
                                 describe(first.error()));
        }
        if (first->network != genesis.network) {
            return fail(err, opts.join->string() + " is for network " + first->network + ", not " +
                                 genesis.network);
        }
        if (first->action != opts.action) {
            return fail(
                err, opts.join->string() + " is a quarantine " + trust::to_string(first->action) +
                         ": join it with `quarantine " +
                         (first->action == trust::QuarantineAction::hold ? "sign" : "lift") +
                         " --join`");
        }
        order = std::move(*first);
        order.signatures.clear();
    } else {
        order.network = genesis.network;
        order.operator_id = resolve_operator(opts.operator_ref, opts.by_id, err);
        if (order.operator_id.empty()) return 1;
        order.action = opts.action;
        order.timestamp = now;
        if (opts.action == trust::QuarantineAction::hold) {
            const double seconds = std::round(opts.days * 86400);
            if (!(seconds >= 60 && seconds <= static_cast<double>(trust::max_quarantine_seconds))) {
                return fail(err, "--days must be between 0.0007 (one minute) and 30");
            }
            order.until = now + static_cast<std::int64_t>(seconds);
        } else {
            order.until = now;
        }
        order.report = opts.report;
        order.reason = opts.reason;
        if (!trust::is_valid_reason(order.reason)) {
            return fail(err, "--reason must be 1-512 characters without control characters");
        }
        if (!order.report.empty() &&
            (order.report.size() != 64 || !is_lower_hex_digits(order.report))) {
            return fail(err, "--report must be a report id: 64 lower-case hex digits");
        }
    }
    auto signer = load_key(opts.key, err, "signer key");
    if (!signer) return 1;
    order.signatures.push_back(trust::sign_quarantine(*signer, order));
    const auto file =
        opts.out_file.value_or(std::string("quarantine-") +
                               (order.action == trust::QuarantineAction::lift ? "lift-" : "") +
                               short_id(order.operator_id) + "-by-" +
                               short_id(trust::operator_id_of(signer->public_key())) + ".sig");
    if (auto ec = write_new_file(file, trust::encode_quarantine_share(order), 0644)) {
        return fail(err, "cannot write " + file.string() + ": " + describe(ec) +
                             (ec == std::errc::file_exists ? "; choose another --out" : ""));
    }
    // The order's time is fixed by its first signer: the hold counts from then, whenever the
    // others join.
    out << "quarantine_signature_file=" << file.string() << "\n"
        << "action=" << trust::to_string(order.action) << "\n"
        << "operator_id=" << order.operator_id << "\n"
        << "timestamp=" << order.timestamp << "\n";
    if (order.action == trust::QuarantineAction::hold) out << "until=" << order.until << "\n";
    return 0;
}

int run_quarantine_publish(const ThresholdPublishOptions& opts, trust::TrustState& state,
                           MeshAccess* mesh, std::int64_t now, std::ostream& out,
                           std::ostream& err) {
    auto shares = read_shares<trust::QuarantineOrder>(
        opts.signatures, trust::parse_quarantine_share, "quarantine", err);
    if (!shares) return 1;
    auto order = trust::combine_quarantine_shares(*shares);
    if (!order) {
        return fail(err, order.error() == errc::value_out_of_range
                             ? "the signature files disagree on the order: the other signers "
                               "must join the first one's (quarantine sign --join FILE)"
                             : "no quarantine signatures given");
    }
    auto author = load_key(opts.key, err, "key");
    if (!author) return 1;
    if (std::none_of(order->signatures.begin(), order->signatures.end(),
                     [&](const auto& s) { return s.signer == author->public_key(); })) {
        return fail(err, "--key must be the key of one of the signers");
    }
    if (mesh == nullptr || mesh->peers() == 0) {
        return fail(err, "no peers reachable: pass --bootstrap ws://HOST:PORT");
    }
    fetch_signer_certificates(state, *mesh, order->signatures, now);
    if (auto ec = state.validator().validate_quarantine(*order, now)) {
        const bool of_genesis = state.validator().is_genesis(order->operator_id);
        return fail(err,
                    "quarantine not valid: " + describe(ec) + "; it needs " +
                        (of_genesis ? std::to_string(state.validator().genesis_signers_needed()) +
                                          " signatures of genesis operators"
                                    : std::to_string(state.genesis().revocation_threshold) +
                                          " signatures of trusted operators") +
                        " other than the one held, valid when it was first signed");
    }
    if (order->action == trust::QuarantineAction::hold && order->until <= now) {
        return fail(err, "this hold has already ended");
    }
    auto record = trust::sign_quarantine_record(*order, *author, now);
    if (!record) return fail(err, "cannot sign the quarantine: " + describe(record.error()));
    const auto res = mesh->put(*record);
    if (res.stored == 0 && res.first_refusal == errc::stale_seq) {
        return fail(err,
                    "not published: the mesh holds an order for this operator at least as "
                    "recent (a later hold or lift, or this one already)");
    }
    const auto stored = stored_or_fail(res, "quarantine", err);
    if (!stored) return 1;
    out << (order->action == trust::QuarantineAction::hold ? "quarantined_operator_id="
                                                           : "lifted_operator_id=")
        << order->operator_id << "\n";
    if (order->action == trust::QuarantineAction::hold) out << "until=" << order->until << "\n";
    out << "published=stored on " << *stored << " nodes\n";
    return 0;
}

}  // namespace nocturne::app
