#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/text_indexing.hpp>

namespace nocturne::knowledge {

std::optional<store::IndexedText> indexed_text(const wire::Record& record) {
    if (record.kind != wire::RecordKind::domain_announce) return std::nullopt;
    auto a = announcement_from_record(record);
    if (!a || a->deleted) return std::nullopt;
    store::IndexedText text;
    text.scope = std::move(a->domain);
    text.title = std::move(a->title);
    for (const auto& tag : a->tags) {
        if (!text.tags.empty()) text.tags += ' ';
        text.tags += tag;
    }
    text.body = std::move(a->content);
    text.rank = a->confidence;
    return text;
}

store::TextIndexer text_indexer() {
    return [](const wire::Record& record) { return indexed_text(record); };
}

}  // namespace nocturne::knowledge
