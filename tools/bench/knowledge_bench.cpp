// Busy publishers and growing domains, measured on real daemons on loopback through the local API,
// as clients use them (issue #12). One run:
//   1. N enrolled daemons (every operator a genesis operator) form a mesh on 127.0.0.1;
//   2. `clients` concurrent API clients publish ~400-byte entries into one domain through two of
//      the nodes until the domain holds each of `sizes` entries; the publish rate is timed over
//      the last (up to 500) entries before each size;
//   3. at each size a node that published nothing queries it: selective (a word only one entry
//      has; it must come back in the first call), broad (a word every entry has), no text, and a
//      network get of one entry by id (GET /local/knowledge/{id}) as the anchor;
//   4. at the end, every daemon's back-pressure counters (/local/health): between honest nodes
//      no frame is refused over a rate limit and no session is cut.
//
//   NOCTURNE_AGENT_BIN=build/release/bin/nocturne-agent
//   build/release/tools/bench/knowledge_bench --nodes 5 --clients 8 --sizes 100,1000,10000

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace nocturne::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string domain = "bench/growing";

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Percentiles {
    double p50 = 0, p95 = 0;
};
Percentiles percentiles(std::vector<double> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) {
        return v[std::min(v.size() - 1,
                          static_cast<std::size_t>(q * static_cast<double>(v.size())))];
    };
    return {at(0.5), at(0.95)};
}

// Entry i: its own word needle<i>, the word "common" that every entry has, and filler words.
json entry_body(std::size_t i, std::size_t content_bytes, std::mt19937_64& rng) {
    std::string content = "common needle" + std::to_string(i);
    std::uniform_int_distribution<int> word(0, 999);
    while (content.size() < content_bytes) content += " w" + std::to_string(word(rng));
    return {{"domain", domain},
            {"id", "e" + std::to_string(i)},
            {"title", "entry " + std::to_string(i)},
            {"content", content},
            {"tags", {"bench", "t" + std::to_string(i % 50)}},
            {"confidence", 0.5 + 0.4 * static_cast<double>(i % 10) / 10.0}};
}

struct PublishRun {
    std::size_t ok = 0;
    std::size_t slow_down = 0;  // 503 rate_limited answers (the client retries after 1 s)
    std::size_t failed = 0;
    double seconds = 0;
};

// Publishes entries [from, to) with `clients` threads through `via` (round robin).
PublishRun publish_range(const std::vector<const Daemon*>& via, std::size_t from, std::size_t to,
                         std::size_t clients, std::size_t content_bytes) {
    std::atomic<std::size_t> next{from}, ok{0}, slow{0}, failed{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (std::size_t c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            std::mt19937_64 rng(c * 7919 + from);
            for (auto i = next++; i < to; i = next++) {
                const auto body = entry_body(i, content_bytes, rng).dump();
                for (;;) {
                    const auto r = via[i % via.size()]->call("POST", "/local/knowledge", body);
                    if (r && r->status == 201) {
                        ++ok;
                    } else if (r && r->status == 503) {
                        ++slow;
                        std::this_thread::sleep_for(std::chrono::seconds(1));
                        continue;
                    } else {
                        ++failed;
                        std::fprintf(stderr, "publish e%zu: %d %s\n", i, r ? r->status : 0,
                                     r ? r->body.c_str() : "no answer");
                    }
                    break;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    return {ok, slow, failed, ms_since(t0) / 1000.0};
}

struct QueryTimes {
    std::vector<double> selective, broad, none, get;
    std::size_t selective_missed = 0;  // the one entry with the word was not in the first page
    std::size_t errors = 0;
};

QueryTimes measure_queries(const Daemon& reader, std::size_t size, std::size_t rounds,
                           std::mt19937_64& rng) {
    QueryTimes out;
    std::uniform_int_distribution<std::size_t> pick(0, size - 1);
    const auto timed = [&](const std::string& target, std::vector<double>& into) -> json {
        const auto t0 = Clock::now();
        const auto r = reader.call("GET", target);
        into.push_back(ms_since(t0));
        if (!r || r->status != 200) {
            ++out.errors;
            return json();
        }
        return json::parse(r->body, nullptr, false);
    };
    for (std::size_t n = 0; n < rounds; ++n) {
        const auto i = pick(rng);
        const auto page = timed(
            "/local/knowledge?domain=" + domain + "&q=needle" + std::to_string(i) + "&limit=10",
            out.selective);
        bool found = false;
        if (page.is_object()) {
            for (const auto& e : page["entries"])
                found = found || e["id"] == "e" + std::to_string(i);
        }
        out.selective_missed += found ? 0 : 1;
        timed("/local/knowledge?domain=" + domain + "&q=common&limit=10", out.broad);
        timed("/local/knowledge?domain=" + domain + "&limit=10", out.none);
        timed("/local/knowledge/e" + std::to_string(pick(rng)) + "?domain=" + domain, out.get);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"knowledge_bench: publish and query a growing domain on real daemons"};
    std::size_t nodes = 5, clients = 8, rounds = 50, content_bytes = 400;
    std::vector<std::size_t> sizes = {100, 1000, 10000};
    app.add_option("--nodes", nodes, "Daemons in the mesh")->check(CLI::Range(3, 20));
    app.add_option("--clients", clients, "Concurrent API clients publishing")
        ->check(CLI::Range(1, 64));
    app.add_option("--sizes", sizes, "Domain sizes to measure at (ascending)")->delimiter(',');
    app.add_option("--queries", rounds, "Queries of each kind per size")
        ->check(CLI::Range(1, 10000));
    app.add_option("--content-bytes", content_bytes, "Content size of an entry")
        ->check(CLI::Range(50, 30000));
    CLI11_PARSE(app, argc, argv);
    if (!std::is_sorted(sizes.begin(), sizes.end()) || sizes.empty() || sizes.front() == 0) {
        std::fprintf(stderr, "--sizes: ascending, positive\n");
        return 2;
    }

    TempDir files;
    std::vector<std::unique_ptr<TempDir>> homes;
    std::vector<std::filesystem::path> paths;
    for (std::size_t i = 0; i < nodes; ++i) {
        homes.push_back(std::make_unique<TempDir>());
        paths.push_back(homes.back()->path());
    }
    const auto genesis = enroll_genesis_operators(paths, files.path(), "bench-net");
    std::vector<std::unique_ptr<Daemon>> daemons;
    daemons.push_back(std::make_unique<Daemon>(paths[0], genesis));
    for (std::size_t i = 1; i < nodes; ++i) {
        daemons.push_back(std::make_unique<Daemon>(paths[i], genesis, daemons[0]->address()));
    }
    for (const auto& d : daemons) {
        if (!d->started() || !d->await_peers(nodes - 1, std::chrono::seconds(30))) {
            std::fprintf(stderr, "the mesh did not form\n");
            return 1;
        }
    }
    const std::vector<const Daemon*> publishers = {daemons[0].get(), daemons[1].get()};
    const Daemon& reader = *daemons.back();
    std::printf("mesh: %zu daemons, %zu clients publishing %zu-byte entries through 2 of them\n",
                nodes, clients, content_bytes);
    std::printf("%8s %12s %10s | %-15s %-15s %-15s %-15s | %s\n", "entries", "publish/s", "503s",
                "selective p50/95", "broad p50/95", "no-text p50/95", "get p50/95",
                "selective found in 1 call");

    std::mt19937_64 rng(42);
    std::size_t published = 0;
    double first_rate = 0, last_rate = 0, last_query = 0, last_get = 0;
    std::size_t failures = 0;
    for (const auto size : sizes) {
        const auto window = std::min<std::size_t>(size - published, 500);
        const auto fill =
            publish_range(publishers, published, size - window, clients, content_bytes);
        const auto timed = publish_range(publishers, size - window, size, clients, content_bytes);
        published = size;
        failures += fill.failed + timed.failed;
        const double rate = static_cast<double>(timed.ok) / timed.seconds;
        if (first_rate == 0) first_rate = rate;
        last_rate = rate;
        const auto q = measure_queries(reader, size, rounds, rng);
        failures += q.errors;
        const auto s = percentiles(q.selective), b = percentiles(q.broad), n = percentiles(q.none),
                   g = percentiles(q.get);
        last_query = std::max({s.p50, b.p50, n.p50});
        last_get = g.p50;
        std::printf(
            "%8zu %12.1f %10zu | %6.2f / %6.2f %6.2f / %6.2f %6.2f / %6.2f %6.2f / %6.2f | "
            "%zu/%zu\n",
            size, rate, fill.slow_down + timed.slow_down, s.p50, s.p95, b.p50, b.p95, n.p50, n.p95,
            g.p50, g.p95, rounds - q.selective_missed, rounds);
        std::fflush(stdout);
    }

    std::uint64_t refused = 0, cut = 0, slowed = 0, paced = 0;
    for (const auto& d : daemons) {
        const auto r = d->call("GET", "/local/health");
        const auto h = r ? json::parse(r->body, nullptr, false) : json();
        if (!h.is_object()) continue;
        const auto& t = h["transport"];
        refused += t.value("rejected_rate", 0ULL) + t.value("slow_downs_sent", 0ULL) +
                   t.value("paced_refusals", 0ULL);
        cut += t.value("disconnects_for_violations", 0ULL) + t.value("slow_readers", 0ULL);
        slowed += h["stats"].value("slowed_down", 0ULL);
        paced += t.value("frames_paced", 0ULL);
        std::printf("%s transport %s stats %s\n", d->address().c_str(), t.dump().c_str(),
                    h["stats"].dump().c_str());
    }
    std::printf("\npublish rate at %zu / at %zu: %.2f (target >= 0.80)\n", sizes.back(),
                sizes.front(), last_rate / first_rate);
    std::printf("slowest query p50 at %zu / get p50: %.2f (target <= 2.00)\n", sizes.back(),
                last_query / last_get);
    std::printf(
        "frames refused over a rate limit: %llu, sessions cut: %llu, requests slowed "
        "down: %llu, frames paced: %llu, failed calls: %zu\n",
        static_cast<unsigned long long>(refused), static_cast<unsigned long long>(cut),
        static_cast<unsigned long long>(slowed), static_cast<unsigned long long>(paced), failures);
    for (auto& d : daemons) d->stop();
    return 0;
}
