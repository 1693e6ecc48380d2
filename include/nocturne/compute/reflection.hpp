#pragma once

// What an agent tells the mesh about its work: a signed `awareness` record, one per agent (a
// newer one replaces the older), under prefix_key("awareness", "reflections"):
//
//   {"id":"reflections","summary","operator_id"[,"domains":[...]]}   seq = created (unix seconds)
//
// GET /local/awareness shows the latest ones, newest trusted first, as untrusted text.

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/record.hpp>

#include <string>
#include <vector>

namespace nocturne::compute {

inline constexpr std::string_view reflections_id = "reflections";
inline constexpr std::size_t max_summary_bytes = 4000;
inline constexpr std::size_t max_reflection_domains = 16;
inline constexpr std::int64_t reflection_seconds = 7 * 24 * 3600;

struct Reflection {
    std::string summary;
    std::string operator_id;
    std::vector<std::string> domains;
    NodeId agent;              // the author (from the record)
    std::int64_t created = 0;  // from the record
};

NodeId reflections_key();
// value_out_of_range for an empty or oversized summary, a bad domain or too many.
result<wire::Record> sign_reflection(const Reflection& reflection, std::int64_t now,
                                     const crypto::KeyPair& agent);
// Strict reader of a verified `awareness` record.
result<Reflection> reflection_from_record(const wire::Record& record);

}  // namespace nocturne::compute
