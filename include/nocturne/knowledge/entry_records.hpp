#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/knowledge/entry.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nocturne::knowledge {

// An entry as it travels: a `knowledge` record at content_key(domain, id) with payload
// {"domain","id","title","content","tags","confidence","operator_id"}, announced in its domain's
// index by a `domain_announce` record at domain_index_key(domain), slot = id, with payload
// {"domain","entry_id","title","content","tags","confidence","created","operator_id"}: the whole
// entry, so that the nodes holding a domain's index can search it (text_indexing.hpp) and answer
// a QUERY with complete, signed results, and a reader needs no second lookup per result.
//
// Deletion is by tombstone: the same two identities with a higher seq and payloads
// {"domain","id","deleted":true} / {"domain","entry_id","deleted":true}. Every responsible node
// replaces the old record with the newer one (store rule: higher seq wins), readers drop
// tombstones, and responsible nodes drop the tombstone itself when it expires, which it does
// when the entry would have.

// Signs the entry's knowledge record (entry.seq, entry.created, entry.expires).
result<wire::Record> sign_entry(const KnowledgeEntry& entry, const crypto::KeyPair& author);
// Signs the entry's announcement (same seq and times as the entry record).
result<wire::Record> sign_announcement(const KnowledgeEntry& entry, const crypto::KeyPair& author);

struct TombstoneTimes {
    std::uint64_t seq = 0;
    std::int64_t created = 0;
    std::int64_t expires = 0;
};
result<wire::Record> sign_entry_tombstone(const std::string& domain, const std::string& id,
                                          TombstoneTimes t, const crypto::KeyPair& author);
result<wire::Record> sign_announce_tombstone(const std::string& domain, const std::string& id,
                                             TombstoneTimes t, const crypto::KeyPair& author);

// A knowledge record read back. For a tombstone only domain, id, author, created, expires and
// seq are set.
struct EntryRecord {
    KnowledgeEntry entry;
    bool deleted = false;
};

// An announcement read back: the entry as its domain index holds it.
struct Announcement {
    std::string domain;
    std::string entry_id;
    std::string title;
    std::string content;
    std::string operator_id;
    std::vector<std::string> tags;
    double confidence = 0.0;
    std::int64_t created = 0;
    std::int64_t expires = 0;
    std::string author;  // node id hex
    std::uint64_t seq = 0;
    bool deleted = false;
};

// Strict readers of records from the mesh (verified by decode already): the kind must match,
// payload fields are exactly those listed above, with the publish limits; text must be valid UTF-8
// and is cleaned again, because another implementation may not have. Never throw:
// wrong_type / missing_field / unknown_field / value_out_of_range / unknown_record_kind.
result<EntryRecord> entry_from_record(const wire::Record& record);
result<Announcement> announcement_from_record(const wire::Record& record);
// The entry a live announcement carries.
KnowledgeEntry entry_of(const Announcement& announcement);

// The hex node id of a record's author (SHA-256 of its public key).
std::string author_id(const wire::Record& record);

}  // namespace nocturne::knowledge
