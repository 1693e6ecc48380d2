#pragma once

#include <nocturne/store/text_search.hpp>
#include <nocturne/wire/record.hpp>

#include <optional>

namespace nocturne::knowledge {

// What a store indexes of the knowledge records it holds: every live domain announcement (the
// whole entry: see entry_records.hpp), scoped by its domain, ranked by its confidence. Entry
// records, tombstones and other kinds are not indexed: one copy of each entry per domain index is
// what a QUERY searches. The record was verified before it was stored; this only reads it.
std::optional<store::IndexedText> indexed_text(const wire::Record& record);

struct Announcement;
// The same, of an announcement already read (live, not deleted).
store::IndexedText indexed_text(const Announcement& announcement);

// indexed_text() as the TextIndexer every record store of an agent is opened with.
store::TextIndexer text_indexer();

}  // namespace nocturne::knowledge
