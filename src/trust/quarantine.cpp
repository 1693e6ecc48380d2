#include <nocturne/core/bytes.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/trust/quarantine.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::trust {
namespace {

constexpr std::string_view quarantine_share_type = "nocturne-quarantine-signature";
constexpr std::size_t max_quarantine_share_bytes = 4096;
constexpr std::int64_t day = 86400;

result<QuarantineAction> action_from(std::string_view text) {
    if (text == "hold") return QuarantineAction::hold;
    if (text == "lift") return QuarantineAction::lift;
    return make_error_code(errc::value_out_of_range);
}

// The order's fields (not its signatures) from a share file or a record payload.
result<QuarantineOrder> read_order(wire::ObjectReader& r) {
    QuarantineOrder o;
    o.network = r.string("network", wire::max_identifier_bytes);
    o.operator_id = r.string("operator_id", wire::max_identifier_bytes);
    const auto action = r.string("action", 8);
    o.timestamp = r.int64("timestamp", 0, INT64_MAX / 2);
    o.until = r.int64("until", 0, INT64_MAX / 2);
    o.report = r.string("report", 64);
    o.reason = r.string("reason", max_reason_bytes);
    auto a = action_from(action);
    if (!a) return a.error();
    o.action = *a;
    return o;
}

nlohmann::json order_json(const QuarantineOrder& o) {
    return {{"network", o.network},
            {"operator_id", o.operator_id},
            {"action", to_string(o.action)},
            {"timestamp", o.timestamp},
            {"until", o.until},
            {"report", o.report},
            {"reason", o.reason}};
}

bool same_order(const QuarantineOrder& a, const QuarantineOrder& b) {
    return a.network == b.network && a.operator_id == b.operator_id && a.action == b.action &&
           a.timestamp == b.timestamp && a.until == b.until && a.report == b.report &&
           a.reason == b.reason;
}

}  // namespace

const char* to_string(QuarantineAction action) noexcept {
    return action == QuarantineAction::hold ? "hold" : "lift";
}

std::string quarantine_message(const QuarantineOrder& o) {
    std::string m = "QUARANTINE:";
    m += o.network;
    m += ':';
    m += to_string(o.action);
    m += ':';
    m += o.operator_id;
    m += ':';
    m += std::to_string(o.timestamp);
    m += ':';
    m += std::to_string(o.until);
    m += ':';
    m += o.report;
    m += ':';
    m += o.reason;
    return m;
}

RevocationSignature sign_quarantine(const crypto::KeyPair& signer, const QuarantineOrder& order) {
    return {signer.public_key(), signer.sign(as_bytes(quarantine_message(order)))};
}

std::error_code verify_quarantine_signature(const RevocationSignature& signature,
                                            const QuarantineOrder& order) {
    if (!crypto::verify(signature.signer, as_bytes(quarantine_message(order)), signature.sig)) {
        return make_error_code(errc::bad_signature);
    }
    return {};
}

std::error_code check_quarantine_fields(const QuarantineOrder& o) {
    const bool times_ok =
        o.action == QuarantineAction::hold
            ? o.until > o.timestamp && o.until - o.timestamp <= max_quarantine_seconds
            : o.until == o.timestamp;
    if (!wire::is_valid_id(o.operator_id) || !is_valid_reason(o.reason) || !times_ok ||
        !(o.report.empty() || (o.report.size() == 64 && is_lower_hex_digits(o.report)))) {
        return make_error_code(errc::value_out_of_range);
    }
    return {};
}

std::string encode_quarantine_share(const QuarantineOrder& share) {
    auto j = order_json(share);
    j["type"] = quarantine_share_type;
    j["v"] = 1;
    j["signer"] = to_hex(share.signatures.at(0).signer);
    j["sig"] = to_hex(share.signatures.at(0).sig);
    return j.dump(2) + "\n";
}

result<QuarantineOrder> parse_quarantine_share(std::string_view text) {
    auto json = wire::parse_json(text, max_quarantine_share_bytes, 4);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    const auto type = r.string("type", 64);
    const auto version = r.int64("v", 0, 1000);
    auto order = read_order(r);
    RevocationSignature s;
    s.signer = r.hex_fixed<32>("signer");
    s.sig = r.hex_fixed<64>("sig");
    if (auto ec = r.finish()) return ec;
    if (type != quarantine_share_type) return make_error_code(errc::value_out_of_range);
    if (version != 1) return make_error_code(errc::unknown_version);
    if (!order) return order.error();
    if (auto ec = check_quarantine_fields(*order)) return ec;
    if (auto ec = verify_quarantine_signature(s, *order)) return ec;
    order->signatures.push_back(s);
    return order;
}

result<QuarantineOrder> combine_quarantine_shares(const std::vector<QuarantineOrder>& shares) {
    if (shares.empty()) return make_error_code(errc::insufficient_signatures);
    QuarantineOrder order = shares.front();
    order.signatures.clear();
    for (const auto& s : shares) {
        if (!same_order(s, order)) return make_error_code(errc::value_out_of_range);
        order.signatures.insert(order.signatures.end(), s.signatures.begin(), s.signatures.end());
    }
    return order;
}

std::string quarantine_payload(const QuarantineOrder& order) {
    auto j = order_json(order);
    j["signatures"] = signatures_json(order.signatures);
    return wire::to_compact_json(j);
}

result<QuarantineOrder> quarantine_from_record(const wire::Record& record) {
    if (record.kind != wire::RecordKind::quarantine) {
        return make_error_code(errc::unknown_record_kind);
    }
    auto json = wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                                 wire::default_limits.max_json_depth);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    auto order = read_order(r);
    const auto* sigs = r.array("signatures", max_revocation_signatures);
    if (auto ec = r.finish()) return ec;
    if (!order) return order.error();
    if (auto ec = check_quarantine_fields(*order)) return ec;
    if (record.seq != static_cast<std::uint64_t>(order->timestamp)) {
        return make_error_code(errc::value_out_of_range);
    }
    auto signatures = read_signatures(*sigs, record.author);
    if (!signatures) return signatures.error();
    order->signatures = std::move(*signatures);
    return order;
}

result<wire::Record> sign_quarantine_record(const QuarantineOrder& order,
                                            const crypto::KeyPair& author, std::int64_t now) {
    if (auto ec = check_quarantine_fields(order)) return ec;
    // A hold's record may go when the hold ends; a lift must outlive every hold it can lift
    // (those began before it and last at most max_quarantine_seconds).
    const auto expires = order.action == QuarantineAction::hold
                             ? std::max(order.until, now) + day
                             : std::max(order.timestamp, now) + max_quarantine_seconds + day;
    return wire::sign_record(
        {wire::RecordKind::quarantine, static_cast<std::uint64_t>(order.timestamp), now, expires,
         quarantine_payload(order)},
        author);
}

}  // namespace nocturne::trust
