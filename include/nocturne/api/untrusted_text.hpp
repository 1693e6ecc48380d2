#pragma once

// Text other agents wrote (task titles, reflections) reaches an LLM through the API: it travels
// inside an envelope with a random per-response marker (knowledge_json.hpp says why), as JSON.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace nocturne::api {

// A marker that none of the texts contains.
std::string fresh_marker(const std::vector<std::string>& texts);
// "<<<UNTRUSTED-CONTENT marker>>>\n" + fields as JSON + "\n<<<END-UNTRUSTED-CONTENT marker>>>"
std::string envelope(const nlohmann::json& fields, const std::string& marker);

}  // namespace nocturne::api
