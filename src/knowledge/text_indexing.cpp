#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/text_indexing.hpp>

namespace nocturne::knowledge {

store::IndexedText indexed_text(const Announcement& a) {
    store::IndexedText text;
    text.scope = a.domain;
    text.title = a.title;
    for (const auto& tag : a.tags) {
        if (!text.tags.empty()) text.tags += ' ';
        text.tags += tag;
    }
    text.body = a.content;
    text.rank = a.confidence;
    return text;
}

std::optional<store::IndexedText> indexed_text(const wire::Record& record) {
    if (record.kind != wire::RecordKind::domain_announce) return std::nullopt;
    auto a = announcement_from_record(record);
    if (!a || a->deleted) return std::nullopt;
    return indexed_text(*a);
}

store::TextIndexer text_indexer() {
    return [](const wire::Record& record) { return indexed_text(record); };
}

}  // namespace nocturne::knowledge
