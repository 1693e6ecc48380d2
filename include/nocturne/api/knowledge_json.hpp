#pragma once

#include <nocturne/api/message.hpp>
#include <nocturne/core/error.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/knowledge/query.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace nocturne::api {

// Every JSON shape of the knowledge endpoints, in and out (docs/api.md). Readers check shape only
// (types, unknown and missing fields, each with a detail naming the field); the limits of an entry
// or a query are the service's to check, once.

// A publish body {"domain", "title", "content", "tags"?: [..], "confidence"?, "id"? (32 random
// hex when absent), "ttl_seconds"?} as a draft.
result<knowledge::EntryDraft> draft_from_json(const nlohmann::json& body);

// The one query parameter the routes of one entry take (GET and DELETE /local/knowledge/{id},
// GET .../votes): `domain`; any other is refused with unknown_field.
result<std::optional<std::string>> entry_domain_param(const QueryParams& params);
// The same where the domain is required (missing_field without it).
result<std::string> required_entry_domain(const QueryParams& params);

// GET /local/knowledge parameters (domain, q, min_confidence, limit, cursor) as a query.
result<knowledge::Query> query_from_params(const QueryParams& params);

nlohmann::json publish_outcome_json(const knowledge::PublishOutcome& outcome);
nlohmann::json remove_outcome_json(const knowledge::RemoveOutcome& outcome);

// The JSON the local API returns for a query page:
//   {"marker": "<16 hex, new per response>",
//    "entries": [{"id", "domain", "provenance": {...},
//                 "untrusted": "<<<UNTRUSTED-CONTENT <marker>>>\n{title,content,tags as JSON}\n"
//                              "<<<END-UNTRUSTED-CONTENT <marker>>>"}],
//    "next_cursor", "announcements", "index_truncated"}
//
// Why the envelope: whatever any author wrote reaches an LLM, which must treat it as data, never
// as instructions. The marker is random per response, so text inside cannot forge the end of
// its envelope (it cannot guess the marker); provenance (who signed it, their operator, trust,
// confidence) stays outside, where an author cannot write.
nlohmann::json present_page(const knowledge::QueryPage& page);

// The same with a given marker (tests); the caller guarantees no entry's text contains it.
nlohmann::json present_page(const knowledge::QueryPage& page, const std::string& marker);

// Whether any untrusted text of the page contains `marker`.
bool page_contains(const knowledge::QueryPage& page, const std::string& marker);

}  // namespace nocturne::api
