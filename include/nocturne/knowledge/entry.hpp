#pragma once

#include <nocturne/core/error.hpp>

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

// Checks a draft (domain and id syntax, limits, UTF-8) and cleans its text (see clean_text()):
// value_out_of_range with a detail naming the field. KnowledgeService::publish calls it; callers
// only shape their input into a draft. Never throws.
result<EntryDraft> validate_draft(EntryDraft draft);

}  // namespace nocturne::knowledge
