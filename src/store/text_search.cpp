#include <nocturne/store/text_search.hpp>

#include <cmath>
#include <tuple>

namespace nocturne::store {
namespace {

bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::vector<std::string> tokenize(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    for (const char c : text) {
        if (is_token_char(c)) {
            current.push_back(lower(c));
        } else if (!current.empty()) {
            out.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) out.push_back(std::move(current));
    return out;
}

std::int64_t text_score(const TermCounts& counts, double rank) {
    double relevance = counts.empty() ? 1.0 : 0.0;
    for (const auto& c : counts) {
        relevance += 3 * std::log2(1.0 + c[0]) + 2 * std::log2(1.0 + c[1]) + std::log2(1.0 + c[2]);
    }
    const double weight = 0.5 + 0.5 * std::clamp(rank, 0.0, 1.0);
    return std::llround(relevance * weight * 1e6);
}

std::optional<std::int64_t> score_text(const std::vector<std::string>& terms,
                                       const IndexedText& text) {
    const std::array<std::vector<std::string>, 3> fields = {
        tokenize(text.title), tokenize(text.tags), tokenize(text.body)};
    TermCounts counts;
    for (const auto& term : terms) {
        std::array<int, 3> c{};
        for (std::size_t f = 0; f < fields.size(); ++f) {
            for (const auto& token : fields[f]) c[f] += token.starts_with(term) ? 1 : 0;
        }
        if (c[0] + c[1] + c[2] == 0) return std::nullopt;
        counts.push_back(c);
    }
    return text_score(counts, text.rank);
}

bool comes_after(const TextPosition& p, std::int64_t score, std::int64_t created,
                 const crypto::PublicKey& author, std::string_view slot) {
    // Descending score and created, ascending author and slot.
    return std::make_tuple(-score, -created, author, slot) >
           std::make_tuple(-p.score, -p.created, p.author, std::string_view(p.slot));
}

}  // namespace nocturne::store
