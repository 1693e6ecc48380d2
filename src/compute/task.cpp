#include <nocturne/compute/task.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace nocturne::compute {
namespace {

result<wire::Record> sign(const nlohmann::json& payload, std::uint64_t seq, std::int64_t now,
                          std::int64_t expires, const crypto::KeyPair& author) {
    return wire::sign_record({wire::RecordKind::task, seq, now, expires, payload.dump()}, author);
}

result<nlohmann::json> payload_of(const wire::Record& record, std::string_view part) {
    if (record.kind != wire::RecordKind::task) return make_error_code(errc::wrong_type);
    auto json = wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                                 wire::default_limits.max_json_depth);
    if (!json || !json->is_object()) return make_error_code(errc::malformed_json);
    const auto it = json->find("part");
    if (it == json->end() || !it->is_string() || it->get_ref<const std::string&>() != part) {
        return make_error_code(errc::wrong_type);
    }
    return json;
}

std::uint64_t read_epoch(wire::ObjectReader& r) {
    return static_cast<std::uint64_t>(r.int64("epoch", 1, static_cast<std::int64_t>(max_epoch)));
}

}  // namespace

bool is_task_type(std::string_view type) noexcept {
    return type == "verify" || type == "review" || type == "synthesize" || type == "custom";
}

NodeId task_key(const std::string& id) {
    return prefix_key(wire::key_prefix::task, id);
}

NodeId task_index_key(const std::string& domain) {
    return prefix_key(wire::key_prefix::task_index, domain);
}

std::string generated_task_id(std::string_view type, std::string_view domain,
                              std::string_view subject) {
    bytes message;
    for (const auto part : {std::string_view("nocturne/task/v1"), type, domain, subject}) {
        message.insert(message.end(), part.begin(), part.end());
        message.push_back(0);  // separates the parts: ("ab","c") and ("a","bc") differ
    }
    return std::string(type) + "-" + to_hex(sha256(message)).substr(0, 32);
}

std::string random_task_id() {
    return "custom-" + crypto::random_hex_id(16);
}

result<wire::Record> sign_task(const Task& t, std::int64_t now, std::int64_t expires,
                               const crypto::KeyPair& creator) {
    nlohmann::json payload = {{"part", "task"}, {"id", t.id},       {"domain", t.domain},
                              {"type", t.type}, {"title", t.title}, {"operator_id", t.operator_id}};
    if (!t.entry_id.empty()) payload["entry_id"] = t.entry_id;
    if (!t.detail.empty()) payload["detail"] = t.detail;
    if (t.closed) payload["closed"] = true;
    nlohmann::json storers = nlohmann::json::array();
    for (const auto& s : t.storers) storers.push_back(s.to_hex());
    payload["storers"] = storers;
    if (t.storers.empty() || t.storers.size() > max_task_storers) {
        return make_error_code(errc::value_out_of_range);
    }
    return sign(payload, t.closed ? 2 : 1, now, expires, creator);
}

result<wire::Record> sign_claim(const Claim& c, std::uint64_t step, std::int64_t now,
                                std::int64_t expires, const crypto::KeyPair& claimant) {
    nlohmann::json payload = {{"part", "claim"},
                              {"id", c.id},
                              {"epoch", c.epoch},
                              {"operator_id", c.operator_id},
                              {"until", c.until}};
    if (c.released) payload["released"] = true;
    return sign(payload, seq_of(c.epoch, c.released ? release_step : step), now, expires, claimant);
}

result<wire::Record> sign_grant(const Grant& g, std::uint64_t seq, std::int64_t now,
                                std::int64_t expires, const crypto::KeyPair& storer) {
    nlohmann::json payload = {{"part", "grant"},
                              {"id", g.id},
                              {"epoch", g.epoch},
                              {"claimant", g.claimant.to_hex()},
                              {"until", g.until}};
    if (g.released) payload["released"] = true;
    return sign(payload, seq, now, expires, storer);
}

result<wire::Record> sign_result(const Result& r, std::int64_t now, std::int64_t expires,
                                 const crypto::KeyPair& claimant) {
    return sign({{"part", "result"},
                 {"id", r.id},
                 {"epoch", r.epoch},
                 {"operator_id", r.operator_id},
                 {"domain", r.domain},
                 {"result_id", r.result_id}},
                r.epoch, now, expires, claimant);
}

std::string_view part_of(const wire::Record& record) {
    for (const std::string_view part : {"task", "claim", "grant", "result"}) {
        if (payload_of(record, part)) return part;
    }
    return {};
}

result<Task> task_from_record(const wire::Record& record) {
    auto json = payload_of(record, "task");
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    Task t;
    (void)r.string("part", 8);
    t.id = r.string("id", wire::max_identifier_bytes);
    t.domain = r.string("domain", wire::max_identifier_bytes);
    t.type = r.string("type", 16);
    t.title = r.string("title", max_title_bytes);
    t.entry_id = r.optional_string("entry_id", wire::max_identifier_bytes).value_or("");
    t.detail = r.optional_string("detail", max_detail_bytes).value_or("");
    t.operator_id = r.string("operator_id", 64);
    t.closed = r.optional_boolean("closed").value_or(false);
    if (const auto* storers = r.array("storers", max_task_storers)) {
        for (const auto& s : *storers) {
            if (!s.is_string()) return make_error_code(errc::wrong_type);
            const auto& text = s.get_ref<const std::string&>();
            const auto id = NodeId::from_hex(text);
            if (!id || id->to_hex() != text) return make_error_code(errc::value_out_of_range);
            t.storers.push_back(*id);
        }
    }
    if (auto ec = r.finish()) return ec;
    if (t.storers.empty()) return make_error_code(errc::value_out_of_range);
    {
        auto sorted = t.storers;
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
            return make_error_code(errc::value_out_of_range);  // a storer counts once
        }
    }
    if (!is_task_type(t.type) || !is_lower_hex(t.operator_id, 32) ||
        (!t.entry_id.empty() && !wire::is_valid_id(t.entry_id)) ||
        record.seq != (t.closed ? 2u : 1u)) {
        return make_error_code(errc::value_out_of_range);
    }
    return t;
}

result<Claim> claim_from_record(const wire::Record& record) {
    auto json = payload_of(record, "claim");
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    Claim c;
    (void)r.string("part", 8);
    c.id = r.string("id", wire::max_identifier_bytes);
    c.epoch = read_epoch(r);
    c.operator_id = r.string("operator_id", 64);
    c.until = r.int64("until", 0, INT64_MAX / 2);
    c.released = r.optional_boolean("released").value_or(false);
    if (auto ec = r.finish()) return ec;
    const auto step = record.seq & 0xffff;
    if (!is_lower_hex(c.operator_id, 32) || (record.seq >> 16) != c.epoch ||
        (c.released != (step == release_step))) {
        return make_error_code(errc::value_out_of_range);
    }
    return c;
}

result<Grant> grant_from_record(const wire::Record& record) {
    auto json = payload_of(record, "grant");
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    Grant g;
    (void)r.string("part", 8);
    g.id = r.string("id", wire::max_identifier_bytes);
    g.epoch = read_epoch(r);
    g.claimant = r.node_id("claimant");
    g.until = r.int64("until", 0, INT64_MAX / 2);
    g.released = r.optional_boolean("released").value_or(false);
    if (auto ec = r.finish()) return ec;
    if ((record.seq >> 16) != g.epoch) return make_error_code(errc::value_out_of_range);
    return g;
}

result<Result> result_from_record(const wire::Record& record) {
    auto json = payload_of(record, "result");
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    Result out;
    (void)r.string("part", 8);
    out.id = r.string("id", wire::max_identifier_bytes);
    out.epoch = read_epoch(r);
    out.operator_id = r.string("operator_id", 64);
    out.domain = r.string("domain", wire::max_identifier_bytes);
    out.result_id = r.string("result_id", wire::max_identifier_bytes);
    if (auto ec = r.finish()) return ec;
    if (!is_lower_hex(out.operator_id, 32) || record.seq != out.epoch ||
        !wire::is_valid_id(out.result_id) || !wire::is_valid_domain(out.domain)) {
        return make_error_code(errc::value_out_of_range);
    }
    return out;
}

}  // namespace nocturne::compute
