// The DHT over real WebSocket sessions on 127.0.0.1: unmodified dht::Node instances, each with
// its own WsTransport, all on one io_context (as in the daemon, one thread).

#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/wire/record.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>

namespace nocturne::net {
namespace {

using namespace std::chrono_literals;

class LoopbackMesh : public ::testing::Test {
protected:
    struct Peer {
        crypto::KeyPair keys = crypto::KeyPair::generate();
        store::MemoryStore store;
        std::unique_ptr<WsTransport> transport;
        std::unique_ptr<dht::Node> node;
        wire::Contact contact() const { return {node->id(), node->address()}; }
    };

    LoopbackMesh() {
        // Wall time, so that envelope timestamps pass the replay window; moved by hand for TTLs.
        clock_.set(std::chrono::time_point_cast<Clock::duration>(std::chrono::system_clock::now()));
    }

    ~LoopbackMesh() override {
        for (auto& p : peers_) p->transport->close();
        io_.restart();
        io_.run_for(2s);
    }

    Peer& add(dht::NodeConfig config = {}) {
        auto p = std::make_unique<Peer>();
        p->transport = std::make_unique<WsTransport>(io_, p->keys, clock_, WsTransportConfig{});
        EXPECT_FALSE(p->transport->listen());
        config.rpc_timeout = 2s;
        p->node = std::make_unique<dht::Node>(p->keys.node_id(), p->transport->address(), clock_,
                                              *p->transport, p->store, config);
        p->transport->set_sink(p->node.get());
        peers_.push_back(std::move(p));
        return *peers_.back();
    }

    // Runs the io_context and the nodes' timers until pred holds or the (wall) timeout passes.
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 15s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            io_.restart();
            io_.run_for(5ms);
            for (auto& p : peers_) p->node->tick();
        }
        return true;
    }

    bool ping(Peer& from, const wire::Contact& to) {
        bool done = false;
        bool ok = false;
        from.node->ping(to, [&](std::optional<NodeId> id) {
            done = true;
            ok = id.has_value();
        });
        return run_until([&] { return done; }) && ok;
    }

    wire::Record record(const std::string& id, std::int64_t ttl = 3600) {
        const auto now = clock_.unix_seconds();
        return wire::sign_record({wire::RecordKind::knowledge, 1, now, now + ttl,
                                  R"({"domain":"loop","id":")" + id + R"("})"},
                                 author_)
            .value();
    }

    dht::PutResult put(Peer& via, const wire::Record& r) {
        std::optional<dht::PutResult> out;
        via.node->put(r, [&](dht::PutResult res) { out = res; });
        EXPECT_TRUE(run_until([&] { return out.has_value(); }));
        return out.value_or(dht::PutResult{});
    }

    dht::LookupResult get(Peer& via, const NodeId& key) {
        std::optional<dht::LookupResult> out;
        via.node->find_value(key, [&](dht::LookupResult res) { out = std::move(res); });
        EXPECT_TRUE(run_until([&] { return out.has_value(); }));
        return out.value_or(dht::LookupResult{});
    }

    boost::asio::io_context io_;
    ManualClock clock_;
    crypto::KeyPair author_ = crypto::KeyPair::generate();
    std::vector<std::unique_ptr<Peer>> peers_;
};

TEST_F(LoopbackMesh, TwoNodesDiscoverEachOtherViaPing) {
    auto& a = add();
    auto& b = add();
    // A knows only B's address, as with --bootstrap.
    ASSERT_TRUE(ping(a, {NodeId{}, b.node->address()}));
    EXPECT_TRUE(a.node->table().contains(b.node->id()));
    // B learns A once its dial-back to the address A claims has answered.
    EXPECT_TRUE(run_until([&] { return b.node->table().contains(a.node->id()); }));
}

TEST_F(LoopbackMesh, AKnowsBBKnowsCSoAFindsC) {
    auto& a = add();
    auto& b = add();
    auto& c = add();
    ASSERT_TRUE(ping(b, c.contact()));
    ASSERT_TRUE(ping(a, b.contact()));
    ASSERT_FALSE(a.node->table().contains(c.node->id()));
    std::optional<dht::LookupResult> found;
    a.node->find_node(c.node->id(), [&](dht::LookupResult r) { found = r; });
    ASSERT_TRUE(run_until([&] { return found.has_value(); }));
    ASSERT_FALSE(found->closest.empty());
    EXPECT_EQ(found->closest[0].id, c.node->id());
}

TEST_F(LoopbackMesh, ValueStoredViaAIsFoundViaCMultiHop) {
    dht::NodeConfig small;
    small.k = 2;  // so that not every node holds every value
    auto& a = add(small);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ping(add(small), a.contact()));
    auto& c = add(small);
    ASSERT_TRUE(ping(c, peers_[1]->contact()));  // C knows one node, not A
    const auto r = record("multi");
    ASSERT_TRUE(put(a, r).ok());
    const auto got = get(c, r.key);
    ASSERT_TRUE(got.found());
    EXPECT_EQ(got.records[0].body, r.body);
}

TEST_F(LoopbackMesh, RecordsExpire) {
    auto& a = add();
    auto& b = add();
    ASSERT_TRUE(ping(a, b.contact()));
    const auto r = record("ttl", 60);
    ASSERT_TRUE(put(a, r).ok());
    ASSERT_TRUE(get(b, r.key).found());
    clock_.advance(61s);
    EXPECT_FALSE(get(b, r.key).found());
}

TEST_F(LoopbackMesh, NodeThatIsNotResponsibleRefusesStore) {
    dht::NodeConfig small;
    small.k = 1;
    auto& a = add(small);
    auto& b = add(small);
    auto& c = add(small);
    ASSERT_TRUE(ping(b, a.contact()));
    ASSERT_TRUE(ping(b, c.contact()));
    // A key for which B is not the closest node it knows.
    wire::Record r;
    for (int i = 0;; ++i) {
        r = record("far" + std::to_string(i));
        if (!distance_less(r.key, b.node->id(), a.node->id()) &&
            !distance_less(r.key, b.node->id(), c.node->id())) {
            break;
        }
    }
    const auto refused_before = b.node->stats().stores_refused;
    a.transport->send(b.contact(), dht::Message{std::string(32, '1'), wire::Store{r}});
    ASSERT_TRUE(run_until([&] { return b.node->stats().stores_refused > refused_before; }));
    EXPECT_EQ(b.store.size().value(), 0u);
}

TEST_F(LoopbackMesh, TwentyNodesEveryNodeFindsEveryValue) {
    auto& first = add();
    for (int i = 1; i < 20; ++i) {
        auto& p = add();
        bool done = false;
        p.node->bootstrap({{NodeId{}, first.node->address()}}, [&](std::size_t) { done = true; });
        ASSERT_TRUE(run_until([&] { return done; }));
    }
    std::vector<wire::Record> records;
    for (std::size_t i = 0; i < peers_.size(); ++i) {
        records.push_back(record("v" + std::to_string(i)));
        ASSERT_TRUE(put(*peers_[i], records.back()).ok());
    }
    std::size_t found = 0;
    for (auto& p : peers_) {
        for (const auto& r : records) {
            const auto got = get(*p, r.key);
            if (got.found() && got.records[0].body == r.body) ++found;
        }
    }
    EXPECT_EQ(found, peers_.size() * records.size());
}

}  // namespace
}  // namespace nocturne::net
