#pragma once

#include <nocturne/core/error.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nocturne::knowledge {

// Limits of an entry, checked on publish and again on every record read from the mesh.
inline constexpr std::size_t max_title_bytes = 256;
inline constexpr std::size_t max_content_bytes = 32 * 1024;
inline constexpr std::size_t max_tags = 16;
inline constexpr std::size_t max_tag_bytes = 64;
inline constexpr std::int64_t default_ttl_seconds = 30 * 24 * 3600;
inline constexpr std::int64_t max_ttl_seconds = 90 * 24 * 3600;
inline constexpr double default_confidence = 0.5;

// One piece of knowledge as published by an agent.
struct KnowledgeEntry {
    std::string id;
    std::string domain;
    std::string title;
    std::string content;
    std::vector<std::string> tags;
    double confidence = default_confidence;
    std::string author;       // the publishing agent's node id (hex SHA-256 of its key)
    std::string operator_id;  // as the author claims it in the record ("" when not enrolled)
    std::int64_t created = 0;
    std::int64_t expires = 0;
    std::uint64_t seq = 0;
};

// What a publisher asks for: an entry before it is signed.
struct EntryDraft {
    std::string id;
    std::string domain;
    std::string title;
    std::string content;
    std::vector<std::string> tags;
    double confidence = default_confidence;
    std::int64_t ttl_seconds = default_ttl_seconds;
};

// Validates an API publish body:
//   {"domain", "title", "content", "tags"?: [..], "confidence"?: 0..1 (default 0.5),
//    "id"?: (32 random hex when absent), "ttl_seconds"?: 1..90 days (default 30 days)}
// Unknown fields, wrong types and limits are errors (missing_field, wrong_type, unknown_field,
// value_out_of_range) with `why` a one-line reason naming the field. Text must be valid UTF-8;
// on success title, content and tags are cleaned (see clean_text()). Never throws.
result<EntryDraft> parse_publish_request(const nlohmann::json& body, std::string& why);

// Checks a draft built in code the same way (limits, syntax, UTF-8) and cleans its text.
result<EntryDraft> validate_draft(EntryDraft draft, std::string& why);

}  // namespace nocturne::knowledge
