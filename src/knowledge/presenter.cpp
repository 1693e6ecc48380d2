#include <nocturne/crypto/random.hpp>
#include <nocturne/knowledge/presenter.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::knowledge {
namespace {

std::string untrusted_json(const KnowledgeEntry& e) {
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& t : e.tags) tags.push_back(t);
    return wire::to_compact_json(
        nlohmann::json{{"title", e.title}, {"content", e.content}, {"tags", tags}});
}

nlohmann::json provenance_json(const FoundEntry& f) {
    const auto& p = f.provenance;
    return {{"author", p.author},
            {"operator_id", p.operator_id},
            {"verified_operator_id", p.verified_operator_id},
            {"operator_verified", p.operator_verified},
            {"signature_verified", p.signature_verified},
            {"trust", p.trust},
            {"confidence", f.entry.confidence},
            {"created", f.entry.created},
            {"expires", f.entry.expires},
            {"seq", f.entry.seq}};
}

}  // namespace

bool page_contains(const QueryPage& page, const std::string& marker) {
    for (const auto& f : page.entries) {
        // The serialised form is what the reader sees; escaping could only split a match, and
        // checking the raw text as well covers that.
        if (untrusted_json(f.entry).find(marker) != std::string::npos) return true;
        if (f.entry.title.find(marker) != std::string::npos ||
            f.entry.content.find(marker) != std::string::npos) {
            return true;
        }
        for (const auto& t : f.entry.tags) {
            if (t.find(marker) != std::string::npos) return true;
        }
    }
    return false;
}

nlohmann::json present_page(const QueryPage& page, const std::string& marker) {
    auto entries = nlohmann::json::array();
    for (const auto& f : page.entries) {
        entries.push_back(
            {{"id", f.entry.id},
             {"domain", f.entry.domain},
             {"provenance", provenance_json(f)},
             {"untrusted", "<<<UNTRUSTED-CONTENT " + marker + ">>>\n" + untrusted_json(f.entry) +
                               "\n<<<END-UNTRUSTED-CONTENT " + marker + ">>>"}});
    }
    return {{"marker", marker},
            {"entries", std::move(entries)},
            {"next_cursor", page.next_cursor},
            {"announcements", page.announcements},
            {"index_truncated", page.index_truncated}};
}

nlohmann::json present_page(const QueryPage& page) {
    // 64 random bits: a collision with an author's text is astronomically unlikely, but it is
    // checked, since a marker inside the content would let that content close its envelope.
    auto marker = crypto::random_hex_id(8);
    while (page_contains(page, marker)) marker = crypto::random_hex_id(8);
    return present_page(page, marker);
}

}  // namespace nocturne::knowledge
