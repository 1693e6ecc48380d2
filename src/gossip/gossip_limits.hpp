#pragma once

// Private to src/gossip/: the limits GossipService's three files share (the service, its send
// queues, its reconciliations).

#include <nocturne/core/clock.hpp>
#include <nocturne/gossip/item.hpp>
#include <nocturne/wire/record.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace nocturne::gossip::detail {

using namespace std::chrono_literals;

// What one request costs in tokens of its sender's bucket: items are validated (signatures),
// ids are looked up, and what an IWANT or SYNC makes us send is paid for by its size (no
// amplification: an item sent costs what an item received does).
constexpr std::size_t ids_per_token = 32;
constexpr std::size_t sync_cost = 8;
constexpr std::size_t ranges_per_token = 4;
// Encoded bytes of whole items in one GOSSIP or IWANT answer: a frame is 256 KiB, and the items
// are escaped once more inside the envelope's body, next to their credentials.
constexpr std::size_t max_item_bytes = 128 * 1024;
// Peers whose buckets are kept; beyond, the oldest half is forgotten (a forgotten peer starts
// again with a full bucket, which is all an id-minting peer gains).
constexpr std::size_t max_buckets = 8192;
// A tick later than this after the previous one means the node was away (suspended, offline):
// it catches up at once.
constexpr auto away_gap = 2min;
// How long a peer that sent a false report is not heard.
constexpr auto discourage_time = 1h;
// Items whose whole copies sent are counted (max_copies), at most.
constexpr std::size_t max_copy_counts = 65'536;
// Items one reconciliation pushes to the peer it reconciles with, at most.
constexpr std::size_t max_gives_per_sync = 512;
// A reconciliation told to slow down waits at most this long each time, and gives up after so
// many times (a peer cannot hold our few reconciliation slots for hours).
constexpr std::size_t max_session_backoffs = 8;
// Refusals or unanswered sends in a row after which what waits for a peer is shed (revocations
// only when it stopped answering).
constexpr std::size_t max_peer_backoffs = 5;
// Sends of one item to one peer that may go unanswered; then it is shed for that peer.
constexpr std::uint8_t max_unanswered_sends = 3;
constexpr Clock::duration max_session_wait = 30s;

inline std::size_t record_bytes(const wire::Record& r) {
    return wire::encode_record(r).size();
}

}  // namespace nocturne::gossip::detail
