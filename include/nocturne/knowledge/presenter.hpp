#pragma once

#include <nocturne/knowledge/query.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace nocturne::knowledge {

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
nlohmann::json present_page(const QueryPage& page);

// The same with a given marker (tests); the caller guarantees no entry's text contains it.
nlohmann::json present_page(const QueryPage& page, const std::string& marker);

// Whether any untrusted text of the page contains `marker`.
bool page_contains(const QueryPage& page, const std::string& marker);

}  // namespace nocturne::knowledge
