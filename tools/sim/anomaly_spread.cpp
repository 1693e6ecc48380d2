#include "anomaly_spread.hpp"

#include <nocturne/core/hex.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/trust/anomaly_report.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/quarantine.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "enrolled_agents.hpp"
#include "percentile.hpp"

namespace nocturne::tools {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t year = 365 * 86400;

struct Reach {
    std::size_t reached = 0;
    double p50_ms = 0, p99_ms = 0;  // from the violating record; unreached nodes count as never
};

Reach reach(const std::vector<sim::GossipPeer*>& peers, const std::vector<std::size_t>& live,
            const wire::Record& record, Clock::time_point t0) {
    Reach out;
    std::vector<double> ms;
    for (const auto i : live) {
        const auto& learned = peers[i]->learned();
        if (auto it = learned.find(record.sig); it != learned.end()) {
            ++out.reached;
            ms.push_back(std::chrono::duration<double, std::milli>(it->second - t0).count());
        }
    }
    out.p50_ms = percentile(ms, 0.5);
    ms.resize(live.size(), 1e12);
    out.p99_ms = percentile(ms, 0.99);
    return out;
}

}  // namespace

bool spread_anomalies(sim::Simulation& sim, const std::vector<sim::GossipPeer*>& peers,
                      const std::vector<std::size_t>& live, const trust::Genesis& genesis,
                      const std::vector<crypto::KeyPair>& operators, std::size_t rounds,
                      double reaction_seconds, std::mt19937_64& rng) {
    // The reporter (an agent of operator 0, one of the domain index's storers) and the flooder
    // (an agent of operator 3). Every node knows the reporter's certificate, as it would from
    // meeting it; the flooder's travels with the report.
    const auto start = sim.clock().unix_seconds();
    const auto reporter = key_of(1, 9);
    const auto flooder = key_of(2, 9);
    const auto reporter_cert = trust::sign_agent_certificate(genesis.network, operators[0],
                                                             reporter, 0, start - 60, year, 1)
                                   .value();
    const auto flooder_cert = trust::sign_agent_certificate(genesis.network, operators[3], flooder,
                                                            0, start - 60, year, 1)
                                  .value();
    for (const auto i : live) (void)peers[i]->trust().learn(reporter_cert, start);
    const auto accused = trust::operator_id_of(operators[3].public_key());
    const auto limit = genesis.anomaly.domain_flood_per_hour;

    bool ok = true;
    for (std::size_t round = 0; round < rounds; ++round) {
        // 51 entries into one domain within a minute; the last one is the violating record.
        const auto now = sim.clock().unix_seconds();
        const auto domain = "flood/" + std::to_string(round);
        trust::AnomalyReport report{
            genesis.network, accused, trust::AnomalyType::domain_flood, {}, {flooder_cert}};
        for (int e = 0; e <= limit; ++e) {
            const auto created = now - limit + e;
            const auto payload =
                R"({"domain":")" + domain + R"(","entry_id":"e)" + std::to_string(e) +
                R"(","title":"t","content":"c","tags":[],"confidence":0.5,)" + R"("created":)" +
                std::to_string(created) + R"(,"operator_id":")" + accused + R"("})";
            report.evidence.push_back(wire::sign_record({wire::RecordKind::domain_announce, 1,
                                                         created, created + 86400, payload},
                                                        flooder)
                                          .value());
        }
        const auto record = trust::sign_report_record(report, reporter, now).value();
        const auto t0 = sim.clock().now();
        const auto origin =
            live[std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng)];
        if (auto ec = peers[origin]->trust().learn(record, now)) {
            std::printf("report refused at its origin: %s\n", ec.message().c_str());
            return false;
        }
        // The three signers' own nodes: they sign once theirs has it and they have reacted.
        std::vector<std::size_t> signer_nodes;
        for (int s = 0; s < 3; ++s) {
            signer_nodes.push_back(
                live[std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng)]);
        }
        const auto all_have = [&] {
            return std::all_of(signer_nodes.begin(), signer_nodes.end(),
                               [&](std::size_t i) { return peers[i]->learned(record); });
        };
        sim.run_for(60s, all_have);
        if (!all_have()) {
            std::printf("report %zu: a signer's node never got it\n", round + 1);
            return false;
        }
        Clock::time_point last{};
        for (const auto i : signer_nodes) last = std::max(last, peers[i]->learned().at(record.sig));
        sim.run_until(last + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(reaction_seconds)));
        const auto signed_at = sim.clock().unix_seconds();
        const auto digest = sha256(bytes_view(record.sig.data(), record.sig.size()));
        trust::QuarantineOrder order{genesis.network,
                                     accused,
                                     trust::QuarantineAction::hold,
                                     signed_at,
                                     signed_at + 7 * 86400,
                                     to_hex(digest),
                                     "domain flooding",
                                     {}};
        for (int s = 0; s < 3; ++s)
            order.signatures.push_back(trust::sign_quarantine(operators[s], order));
        const auto hold = trust::sign_quarantine_record(order, operators[0], signed_at).value();
        if (auto ec = peers[signer_nodes[0]]->trust().learn(hold, signed_at)) {
            std::printf("quarantine refused at its origin: %s\n", ec.message().c_str());
            return false;
        }
        sim.run_for(10s);
        const auto r = reach(peers, live, record, t0);
        const auto q = reach(peers, live, hold, t0);
        const auto share = [&](std::size_t n) {
            return 100.0 * static_cast<double>(n) / static_cast<double>(live.size());
        };
        const bool round_ok = share(r.reached) >= 99 && share(q.reached) >= 99 &&
                              r.p99_ms <= 90'000 && q.p99_ms <= 90'000;
        ok = ok && round_ok;
        std::printf(
            "anomaly %zu: report (%zu evidence records) reached %.2f%% of %zu live nodes, p50 %.0f "
            "ms, p99 %.0f ms after the violating record; quarantine (signed %.1f s after, "
            "reaction %.0f s) reached %.2f%%, p50 %.0f ms, p99 %.0f ms after it\n",
            round + 1, report.evidence.size(), share(r.reached), live.size(), r.p50_ms, r.p99_ms,
            std::chrono::duration<double>(Clock::time_point(std::chrono::seconds(signed_at)) - t0)
                .count(),
            reaction_seconds, share(q.reached), q.p50_ms, q.p99_ms);
        std::fflush(stdout);
        sim.run_for(30s);
    }
    return ok;
}

}  // namespace nocturne::tools
