#pragma once

#include <cstddef>
#include <cstdint>

namespace nocturne::tools {

struct GossipRunOptions {
    std::size_t nodes = 10'000;
    std::size_t revocations = 20;  // published one after another, from random live nodes
    double churn = 0.2;            // fraction of nodes dead (gone without a word) meanwhile
    int rtt_ms = 100;              // round trip between any two nodes (one way: half, +-20%)
    double away_hours = 24;        // how long the returning node was away (0: skip that part)
    // Anomaly reports (domain flooding, with its 51 signed announcements as evidence) spread from
    // a random live node, each followed by the quarantine three operators sign once their own
    // nodes have it and `reaction_seconds` passed.
    std::size_t anomalies = 0;
    double reaction_seconds = 30;
    std::uint64_t seed = 1;
};

// nocturne-sim --gossip: the unchanged GossipService (with its node and trust state) on every
// node of a simulated mesh. Exit code 0 when every revocation reached >= 99.9% of live nodes
// with p99 <= 1 s, no node sent more than 12 whole copies of one, and the node back after
// `away_hours` had every revocation it missed within 3 round trips, and every report and its
// quarantine reached >= 99% of live nodes within 90 s of the violating record.
int run_gossip(const GossipRunOptions& options);

}  // namespace nocturne::tools
