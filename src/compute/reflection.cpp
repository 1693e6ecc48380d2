#include <nocturne/compute/reflection.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

namespace nocturne::compute {

NodeId reflections_key() {
    return prefix_key(wire::key_prefix::awareness, reflections_id);
}

result<wire::Record> sign_reflection(const Reflection& r, std::int64_t now,
                                     const crypto::KeyPair& agent) {
    if (r.summary.empty() || r.summary.size() > max_summary_bytes ||
        r.domains.size() > max_reflection_domains || now <= 0) {
        return make_error_code(errc::value_out_of_range);
    }
    for (const auto& d : r.domains) {
        if (!wire::is_valid_domain(d)) return make_error_code(errc::value_out_of_range);
    }
    nlohmann::json payload = {
        {"id", reflections_id}, {"summary", r.summary}, {"operator_id", r.operator_id}};
    if (!r.domains.empty()) payload["domains"] = r.domains;
    return wire::sign_record({wire::RecordKind::awareness, static_cast<std::uint64_t>(now), now,
                              now + reflection_seconds, payload.dump()},
                             agent);
}

result<Reflection> reflection_from_record(const wire::Record& record) {
    if (record.kind != wire::RecordKind::awareness) return make_error_code(errc::wrong_type);
    auto json = wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                                 wire::default_limits.max_json_depth);
    if (!json || !json->is_object()) return make_error_code(errc::malformed_json);
    wire::ObjectReader reader(*json);
    Reflection out;
    const auto id = reader.string("id", wire::max_identifier_bytes);
    out.summary = reader.string("summary", max_summary_bytes);
    out.operator_id = reader.string("operator_id", 64);
    if (const auto* domains = reader.optional_array("domains", max_reflection_domains)) {
        for (const auto& d : *domains) {
            if (!d.is_string() || !wire::is_valid_domain(d.get_ref<const std::string&>())) {
                return make_error_code(errc::value_out_of_range);
            }
            out.domains.push_back(d.get<std::string>());
        }
    }
    if (auto ec = reader.finish()) return ec;
    const auto agent = NodeId::from_public_key(record.author);
    if (id != reflections_id || out.summary.empty() || !agent ||
        record.seq != static_cast<std::uint64_t>(record.created)) {
        return make_error_code(errc::value_out_of_range);
    }
    out.agent = *agent;
    out.created = record.created;
    return out;
}

}  // namespace nocturne::compute
