#pragma once

#include <cstddef>
#include <cstdint>

namespace nocturne::wire {

// Hard limits on untrusted input. They bound memory and CPU per message before anything is parsed.
struct Limits {
    std::size_t max_frame_bytes = 256 * 1024;  // a whole envelope as received
    std::size_t max_record_bytes = 64 * 1024;  // one signed record as stored
    std::size_t max_json_depth = 16;           // nesting of any JSON document we parse
    std::size_t max_peers_per_response = 20;   // FIND_NODE / FIND_VALUE contact lists
    // FIND_VALUE and QUERY record lists (QUERY's limit goes up to 100; bytes cut them first).
    std::size_t max_records_per_response = 100;
    std::size_t max_credentials = 16;  // cert / agent_cert records riding along
    // Encoded records in one FIND_VALUE answer: leaves room in a frame for credentials and peers.
    std::size_t max_value_bytes_per_response = 192 * 1024;
    // Highest FIND_VALUE offset a peer may ask for (records held under one key are far fewer).
    std::uint64_t max_find_value_offset = 1 << 20;
    // Gossip: items in one GOSSIP or IWANT answer, ids in one IHAVE, IWANT or SYNC answer, ranges
    // in one SYNC (or its answer).
    std::size_t max_gossip_items = 64;
    std::size_t max_gossip_ids = 2048;
    std::size_t max_sync_ranges = 256;
    std::size_t max_string_bytes = 1024;  // ids, addresses, labels (content has its own limit)
    std::int64_t max_clock_skew_seconds = 300;  // tolerated "created in the future"
};

inline constexpr Limits default_limits{};

}  // namespace nocturne::wire
