#include <nocturne/core/hex.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/vote/ballot.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

#include <array>

namespace nocturne::vote {
namespace {

constexpr std::string_view commit_tag = "nocturne/vote/v1";
constexpr std::string_view salt_tag = "nocturne/vote-salt/v1";

void append(bytes& out, std::string_view text) {
    out.insert(out.end(), text.begin(), text.end());
}

void append_round(bytes& out, std::uint64_t round) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(round >> shift));
    }
}

result<wire::Record> sign(const nlohmann::json& payload, std::uint64_t round, std::int64_t created,
                          const crypto::KeyPair& agent) {
    if (round == 0) return make_error_code(errc::value_out_of_range);
    return wire::sign_record(
        {wire::RecordKind::vote, round, created,
         created + wire::max_ttl_seconds(wire::RecordKind::vote), payload.dump()},
        agent);
}

// The fields both phases share, read from a verified `vote` record of that phase.
struct Common {
    NodeId entry_key;
    std::uint64_t round = 0;
    std::string operator_id;
};

result<nlohmann::json> payload_of(const wire::Record& record, std::string_view phase) {
    if (record.kind != wire::RecordKind::vote || record.slot != phase) {
        return make_error_code(errc::wrong_type);
    }
    auto json = wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                                 wire::default_limits.max_json_depth);
    if (!json || !json->is_object()) return make_error_code(errc::malformed_json);
    return json;
}

std::error_code read_common(wire::ObjectReader& r, const wire::Record& record, Common& out) {
    out.entry_key = r.node_id("entry_key");
    (void)r.string("phase", 8);
    out.round = static_cast<std::uint64_t>(r.int64("round", 1, INT64_MAX));
    out.operator_id = r.string("operator_id", 64);
    if (r.error()) return r.error();
    if (!is_lower_hex(out.operator_id, 32) || out.round != record.seq) {
        return make_error_code(errc::value_out_of_range);
    }
    return {};
}

}  // namespace

std::uint64_t Windows::round_at(std::int64_t unix_seconds) const {
    return unix_seconds <= 0 ? 0 : static_cast<std::uint64_t>(unix_seconds / commit_seconds);
}

std::int64_t Windows::commit_start(std::uint64_t round) const {
    return static_cast<std::int64_t>(round) * commit_seconds;
}

std::int64_t Windows::reveal_start(std::uint64_t round) const {
    return commit_start(round) + commit_seconds;
}

std::int64_t Windows::reveal_end(std::uint64_t round) const {
    return reveal_start(round) + reveal_seconds;
}

std::string derive_salt(const crypto::KeyPair& agent, const NodeId& entry_key,
                        std::uint64_t round) {
    bytes message;
    append(message, salt_tag);
    message.insert(message.end(), entry_key.bytes().begin(), entry_key.bytes().end());
    append_round(message, round);
    const auto signature = agent.sign(message);
    return to_hex(sha256(signature));
}

std::string commitment_of(const NodeId& entry_key, std::uint64_t round,
                          const std::string& operator_id, int choice, const std::string& salt) {
    bytes message;
    append(message, commit_tag);
    message.insert(message.end(), entry_key.bytes().begin(), entry_key.bytes().end());
    append_round(message, round);
    // Both are checked hex by the readers; anything else hashes as its text, which no honest
    // commitment matches.
    const auto hex_or_text = [&](const std::string& text) {
        if (const auto decoded = from_hex(text)) {
            message.insert(message.end(), decoded->begin(), decoded->end());
        } else {
            append(message, text);
        }
    };
    hex_or_text(operator_id);
    message.push_back(choice > 0 ? 0x01 : 0xff);
    hex_or_text(salt);
    return to_hex(sha256(message));
}

bool opens(const Reveal& reveal, const Commit& commit) {
    return reveal.entry_key == commit.entry_key && reveal.round == commit.round &&
           reveal.operator_id == commit.operator_id &&
           commitment_of(reveal.entry_key, reveal.round, reveal.operator_id, reveal.choice,
                         reveal.salt) == commit.commitment;
}

result<wire::Record> sign_commit(const Commit& c, std::int64_t created,
                                 const crypto::KeyPair& agent) {
    return sign({{"entry_key", c.entry_key.to_hex()},
                 {"phase", "commit"},
                 {"round", c.round},
                 {"operator_id", c.operator_id},
                 {"commitment", c.commitment}},
                c.round, created, agent);
}

result<wire::Record> sign_reveal(const Reveal& v, std::int64_t created,
                                 const crypto::KeyPair& agent) {
    nlohmann::json payload = {
        {"entry_key", v.entry_key.to_hex()}, {"phase", "reveal"},  {"round", v.round},
        {"operator_id", v.operator_id},      {"choice", v.choice}, {"salt", v.salt}};
    if (!v.reason.empty()) payload["reason"] = v.reason;
    return sign(payload, v.round, created, agent);
}

bool is_commit(const wire::Record& record) {
    return record.kind == wire::RecordKind::vote && record.slot == "commit";
}

result<Commit> commit_from_record(const wire::Record& record) {
    auto json = payload_of(record, "commit");
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    Common common;
    Commit c;
    auto ec = read_common(r, record, common);
    c.commitment = r.string("commitment", 64);
    if (!ec) ec = r.finish();
    if (ec) return ec;
    if (!is_lower_hex(c.commitment, 32)) return make_error_code(errc::value_out_of_range);
    c.entry_key = common.entry_key;
    c.round = common.round;
    c.operator_id = std::move(common.operator_id);
    return c;
}

result<Reveal> reveal_from_record(const wire::Record& record) {
    auto json = payload_of(record, "reveal");
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    Common common;
    Reveal v;
    auto ec = read_common(r, record, common);
    v.choice = static_cast<int>(r.int64("choice", -1, 1));
    v.salt = r.string("salt", 64);
    v.reason = r.optional_string("reason", max_reason_bytes).value_or("");
    if (!ec) ec = r.finish();
    if (ec) return ec;
    if (v.choice == 0 || !is_lower_hex(v.salt, 32))
        return make_error_code(errc::value_out_of_range);
    v.entry_key = common.entry_key;
    v.round = common.round;
    v.operator_id = std::move(common.operator_id);
    return v;
}

}  // namespace nocturne::vote
