#include <nocturne/api/untrusted_text.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <algorithm>

namespace nocturne::api {

std::string fresh_marker(const std::vector<std::string>& texts) {
    for (;;) {
        auto marker = crypto::random_hex_id(8);
        if (std::none_of(texts.begin(), texts.end(), [&](const std::string& t) {
                return t.find(marker) != std::string::npos;
            })) {
            return marker;
        }
    }
}

std::string envelope(const nlohmann::json& fields, const std::string& marker) {
    return "<<<UNTRUSTED-CONTENT " + marker + ">>>\n" + wire::to_compact_json(fields) +
           "\n<<<END-UNTRUSTED-CONTENT " + marker + ">>>";
}

}  // namespace nocturne::api
