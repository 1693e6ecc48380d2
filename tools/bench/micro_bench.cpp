// Costs of the per-message and per-record hot paths, so regressions show up as numbers.

#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/channel.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/routing_table.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/text_indexing.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/store/sqlite_store.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/record.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace {

using namespace nocturne;

constexpr std::int64_t t0 = 1'700'000'000;

NodeId random_id(std::mt19937_64& rng) {
    NodeId id;
    for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
    return id;
}

wire::Record knowledge(const crypto::KeyPair& keys, int i, std::size_t content_bytes) {
    const std::string payload = R"({"domain":"bench","id":"e)" + std::to_string(i) +
                                R"(","content":")" + std::string(content_bytes, 'x') + "\"}";
    return wire::sign_record({wire::RecordKind::knowledge, 1, t0, t0 + 3600, payload}, keys)
        .value();
}

wire::EnvelopeDraft find_node_draft() {
    wire::EnvelopeDraft d;
    d.address = "ws://127.0.0.1:9090";
    d.payload = wire::FindNode{NodeId{}};
    return d;
}

// A message's cost on each side of a session: encode and seal; open and decode.
void BM_EncodeAndSealMessage(benchmark::State& state) {
    const auto a = crypto::EphemeralKey::generate();
    const auto b = crypto::EphemeralKey::generate();
    crypto::ChannelSender out(crypto::ChannelKeys::derive(true, a, b.public_key()).value());
    const auto draft = find_node_draft();
    for (auto _ : state) benchmark::DoNotOptimize(out.seal(wire::encode_message(draft).value()));
}
BENCHMARK(BM_EncodeAndSealMessage);

void BM_OpenAndDecodeMessage(benchmark::State& state) {
    const auto a = crypto::EphemeralKey::generate();
    const auto b = crypto::EphemeralKey::generate();
    const auto keys_a = crypto::ChannelKeys::derive(true, a, b.public_key()).value();
    const auto keys_b = crypto::ChannelKeys::derive(false, b, a.public_key()).value();
    crypto::ChannelSender out(keys_a);
    crypto::ChannelReceiver in(keys_b, out.header());
    const auto message = wire::encode_message(find_node_draft()).value();
    // Sealed ahead in batches (outside the timing): each frame opens once, in order.
    std::vector<std::string> frames;
    std::size_t next = 0;
    for (auto _ : state) {
        if (next == frames.size()) {
            state.PauseTiming();
            frames.clear();
            for (int i = 0; i < 4096; ++i) frames.push_back(out.seal(message));
            next = 0;
            state.ResumeTiming();
        }
        benchmark::DoNotOptimize(wire::decode_message(in.open(frames[next++]).value()));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * message.size()));
}
BENCHMARK(BM_OpenAndDecodeMessage);

void BM_DecodeNodesResponse(benchmark::State& state) {
    // The most common large message: 20 contacts.
    std::mt19937_64 rng(1);
    wire::NodesResult nodes;
    for (int i = 0; i < 20; ++i) nodes.peers.push_back({random_id(rng), "ws://10.0.0.1:9090"});
    auto draft = find_node_draft();
    draft.payload = wire::Response{std::string(32, 'a'), nodes};
    const auto message = wire::encode_message(draft).value();
    for (auto _ : state) benchmark::DoNotOptimize(wire::decode_message(message));
}
BENCHMARK(BM_DecodeNodesResponse);

void BM_DecodeRecord(benchmark::State& state) {
    const auto keys = crypto::KeyPair::generate();
    const auto text = wire::encode_record(knowledge(keys, 0, state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(wire::decode_record(text));
}
BENCHMARK(BM_DecodeRecord)->Arg(100)->Arg(4000);

void BM_ClosestN(benchmark::State& state) {
    std::mt19937_64 rng(2);
    ManualClock clock;
    dht::RoutingTable table(random_id(rng), clock, 20);
    // Enough random peers to fill the populated buckets; loopback is exempt from diversity.
    for (int i = 0; i < state.range(0); ++i) table.add({random_id(rng), "ws://127.0.0.1:1", ""});
    const auto target = random_id(rng);
    for (auto _ : state) benchmark::DoNotOptimize(table.closest_n(target, 20));
    state.counters["table_size"] = static_cast<double>(table.size());
}
BENCHMARK(BM_ClosestN)->Arg(1000)->Arg(100000);

template <class Open>
void store_get(benchmark::State& state, Open open) {
    const auto keys = crypto::KeyPair::generate();
    auto store = open();
    std::vector<NodeId> keys_stored;
    for (int i = 0; i < 1000; ++i) {
        auto r = knowledge(keys, i, 500);
        keys_stored.push_back(r.key);
        (void)store->put(r);
    }
    std::size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(store->get(keys_stored[i++ % 1000], t0));
}

void BM_MemoryStoreGet(benchmark::State& state) {
    store_get(state, [] { return std::make_unique<store::MemoryStore>(); });
}
BENCHMARK(BM_MemoryStoreGet);

std::filesystem::path bench_db() {
    auto dir =
        std::filesystem::temp_directory_path() / ("nocturne-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir / "entries.db";
}

void BM_SqliteStoreGet(benchmark::State& state) {
    const auto path = bench_db();
    store_get(state, [&] { return store::SqliteStore::open(path).value(); });
    std::filesystem::remove_all(path.parent_path());
}
BENCHMARK(BM_SqliteStoreGet);

void BM_SqliteStorePut(benchmark::State& state) {
    // Fresh inserts only (each a WAL commit): the records are signed before timing starts.
    const auto keys = crypto::KeyPair::generate();
    std::vector<wire::Record> records;
    for (int i = 0; i < 20000; ++i) records.push_back(knowledge(keys, i, 500));
    const auto path = bench_db();
    auto store = store::SqliteStore::open(path).value();
    std::size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(store->put(records[i++]));
    store.reset();
    std::filesystem::remove_all(path.parent_path());
}
BENCHMARK(BM_SqliteStorePut)->Iterations(20000);

// A domain index holder's side of a QUERY: one page of 11 rows from a domain of 10,000 entries
// shaped like knowledge_bench's. Arg 0: no text; 1: a word every entry has; 2: a word one has.
void BM_SqliteStoreSearch(benchmark::State& state) {
    const auto path = bench_db();
    auto store = store::SqliteStore::open(path, knowledge::text_indexer()).value();
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<int> word(0, 999);
    const auto keys = crypto::KeyPair::generate();
    const int entries = 10000;
    for (int i = 0; i < entries; ++i) {
        knowledge::KnowledgeEntry e;
        e.id = "e" + std::to_string(i);
        e.domain = "bench";
        e.title = "entry " + std::to_string(i);
        e.content = "common needle" + std::to_string(i);
        while (e.content.size() < 400) e.content += " w" + std::to_string(word(rng));
        e.tags = {"bench", "t" + std::to_string(i % 50)};
        e.confidence = 0.5 + 0.4 * (i % 10) / 10.0;
        e.created = t0;
        e.expires = t0 + 86400;
        e.seq = 1;
        (void)store->put(knowledge::sign_announcement(e, keys).value());
    }
    store::TextSearch search;
    search.limit = 11;
    if (state.range(0) == 1) search.terms = {"common"};
    if (state.range(0) == 2) search.terms = {"needle4242"};
    const auto key = domain_index_key("bench");
    for (auto _ : state) {
        auto found = store->search(key, search, t0 + 1);
        if (!found || found->empty()) state.SkipWithError("nothing found");
        benchmark::DoNotOptimize(found);
    }
    store.reset();
    // BENCH_KEEP=1 leaves the database for a look with the sqlite3 shell.
    if (std::getenv("BENCH_KEEP") == nullptr) std::filesystem::remove_all(path.parent_path());
}
BENCHMARK(BM_SqliteStoreSearch)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
