// The attacks of issue #11 tried again against real daemons on loopback: ids ground next to an
// entry's keys, claimed addresses, peers that never read, pre-handshake slots held, strangers on
// the local API, a node of another mesh, an author that lost its publish state. Each must fail.

#include <nocturne/app/home.hpp>
#include <nocturne/app/identity.hpp>
#include <nocturne/app/trust_files.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/sim/sybil.hpp>
#include <nocturne/trust/genesis.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <bit>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/io_thread.hpp"
#include "support/net_ws_client.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;
using net::test::RawWsClient;
using nlohmann::json;
namespace asio = boost::asio;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;  // ASan keeps freed memory in quarantine: RSS says little
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

std::size_t common_prefix_bits(const NodeId& a, const NodeId& b) {
    std::size_t bits = 0;
    for (std::size_t i = 0; i < NodeId::size; ++i) {
        const auto x = static_cast<std::uint8_t>(a[i] ^ b[i]);
        if (x != 0) return bits + static_cast<std::size_t>(std::countl_zero(x));
        bits += 8;
    }
    return bits;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

// Unenrolled ids ground next to chosen keys (sim::SybilCrowd's adversary), each a real transport
// on loopback. Owned by the test's main thread; the members live on io_.
class GroundCrowd {
public:
    explicit GroundCrowd(std::string network) : network_(std::move(network)) {}
    ~GroundCrowd() { stop(); }

    // n members whose ids share at least `bits` leading bits with target (about 2^bits keys
    // minted each: the cost an attacker pays). Call before start().
    void raise_near(const NodeId& target, std::size_t n, std::size_t bits = 10) {
        for (std::size_t made = 0; made < n; ++seed_) {
            auto keys = sim::SybilNode::keys_of(seed_);
            if (common_prefix_bits(keys.node_id(), target) < bits) continue;
            auto member = std::make_unique<Member>();
            net::WsTransportConfig config;
            config.network = network_;
            member->transport =
                std::make_unique<net::WsTransport>(io_.context(), keys, clock_, config);
            EXPECT_FALSE(member->transport->listen());
            member->id_hex = keys.node_id().to_hex();
            member->node = std::make_unique<sim::SybilNode>(
                crowd_, *member->transport, keys.node_id(), member->transport->address(), seed_);
            member->transport->set_sink(member->node.get());
            crowd_.join({keys.node_id(), member->transport->address()});
            members_.push_back(std::move(member));
            ++made;
        }
    }

    void start() { io_.start(); }

    // Every member PINGs every node at these addresses, to get into their routing tables.
    void introduce_to(const std::vector<std::string>& addresses) {
        std::vector<wire::Contact> nodes;
        for (const auto& a : addresses) nodes.push_back({NodeId{}, a});
        io_.call([&] {
            for (auto& m : members_) m->node->introduce_to(nodes);
        });
    }

    void remember(const wire::Record& record) {
        io_.call([&] { crowd_.remember(record); });
    }
    std::size_t stores_received() {
        std::size_t n = 0;
        io_.call([&] { n = crowd_.stores_received(); });
        return n;
    }
    std::set<std::string> ids() const {
        std::set<std::string> out;
        for (const auto& m : members_) out.insert(m->id_hex);
        return out;
    }

    // Every member goes away at once (their addresses stay in routing tables: dead contacts).
    void stop() {
        if (stopped_) return;
        stopped_ = true;
        io_.call([&] {
            for (auto& m : members_) m->transport->close();
        });
        EXPECT_TRUE(io_.join());
        members_.clear();
    }

private:
    struct Member {
        std::unique_ptr<net::WsTransport> transport;
        std::unique_ptr<sim::SybilNode> node;
        std::string id_hex;
    };

    std::string network_;
    SystemClock clock_;
    IoThread io_;
    sim::SybilCrowd crowd_;
    std::vector<std::unique_ptr<Member>> members_;
    std::uint64_t seed_ = 1;
    bool stopped_ = false;
};

std::set<std::string> peer_ids(const Daemon& d) {
    std::set<std::string> out;
    const auto peers = d.peers();
    if (!peers.contains("peers")) return out;
    for (const auto& p : peers["peers"]) out.insert(p["node_id"].get<std::string>());
    return out;
}

std::size_t count_in(const std::set<std::string>& a, const std::set<std::string>& b) {
    std::size_t n = 0;
    for (const auto& x : a) n += b.count(x);
    return n;
}

// What a user who lost knowledge/published.db (and nothing else) has left.
void lose_publish_state(const std::filesystem::path& home) {
    const auto db = app::HomeLayout{home}.published_db();
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(db.string() + suffix);
    }
}

class DaemonsUnderAttack : public ::testing::Test {
protected:
    void SetUp() override {
        genesis_file_ = enroll_genesis_operators({a_.path(), b_.path(), c_.path()}, files_.path(),
                                                 "attack-net");
        network_ = trust::network_id(app::load_genesis(genesis_file_).value());
        na_ = std::make_unique<Daemon>(a_.path(), genesis_file_);
        nb_ = std::make_unique<Daemon>(b_.path(), genesis_file_, na_->address());
        nc_ = std::make_unique<Daemon>(c_.path(), genesis_file_, na_->address());
        for (auto* d : all()) ASSERT_TRUE(d->await_peers(2));
    }
    void TearDown() override {
        for (auto* d : {na_.get(), nb_.get(), nc_.get()}) {
            if (d != nullptr) d->stop();
        }
    }
    std::vector<Daemon*> all() { return {na_.get(), nb_.get(), nc_.get()}; }

    crypto::KeyPair node_key(const std::filesystem::path& home) {
        bool created = false;
        auto keys = app::load_or_create_node_key(app::HomeLayout{home}.node_key(), created);
        EXPECT_TRUE(keys.has_value() && !created);
        return std::move(keys.value());
    }

    TempDir a_, b_, c_, files_;
    std::filesystem::path genesis_file_;
    std::string network_;
    std::unique_ptr<Daemon> na_, nb_, nc_;
};

TEST_F(DaemonsUnderAttack, GroundIdsNextToAnEntryNeitherHoldItNorHideItsUpdatesNorItsDeletion) {
    const std::string domain = "sec/eclipse";
    // An entry already held before the crowd arrives: no node hands it over to the crowd.
    EXPECT_EQ(na_->publish(entry(domain, "e1", "first"))["stored_on"], 3);

    GroundCrowd crowd(network_);
    crowd.raise_near(content_key(domain, "e1"), 12);
    crowd.raise_near(domain_index_key(domain), 12);
    crowd.start();
    // The crowd gets into the routing tables (dial-backs to the addresses it claims succeed);
    // like a real attacker, it keeps knocking.
    ASSERT_TRUE(eventually(
        [&] {
            crowd.introduce_to({na_->address(), nb_->address(), nc_->address()});
            std::this_thread::sleep_for(500ms);
            return count_in(crowd.ids(), peer_ids(*na_)) >= 6;
        },
        20s))
        << count_in(crowd.ids(), peer_ids(*na_)) << " members in A's table";

    // What the crowd will serve instead: an older version of the entry and of its announcement,
    // signed by the author (it was published once; anyone could have read it).
    knowledge::KnowledgeEntry stale;
    stale.id = "e1";
    stale.domain = domain;
    stale.title = "stale";
    stale.content = "an old version";
    stale.confidence = 0.9;
    stale.created = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    stale.expires = stale.created + 3600;
    stale.seq = 1;
    const auto author = node_key(a_.path());
    crowd.remember(knowledge::sign_entry(stale, author).value());
    crowd.remember(knowledge::sign_announcement(stale, author).value());

    // Only the three enrolled nodes' signed acknowledgements count.
    const auto second = na_->publish(entry(domain, "e1", "second"));
    EXPECT_EQ(second["stored_on"], 3);
    EXPECT_EQ(second["announced_on"], 3);
    EXPECT_EQ(na_->publish(entry(domain, "e2", "other"))["stored_on"], 3);
    for (auto* d : all()) {
        auto [ids, page] = d->query("domain=" + domain);
        EXPECT_EQ(ids, (std::set<std::string>{"e1", "e2"}));
        for (const auto& e : page["entries"]) {
            if (e["id"] == "e1") {
                EXPECT_EQ(e["provenance"]["seq"], 2);
                EXPECT_NE(e["untrusted"].get<std::string>().find(R"("title":"second")"),
                          std::string::npos);
            }
        }
    }
    const auto deleted = na_->call("DELETE", "/local/knowledge/e1");
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->status, 200) << deleted->body;
    for (auto* d : all()) {
        EXPECT_EQ(d->query("domain=" + domain).first, (std::set<std::string>{"e2"}));
    }
    EXPECT_EQ(crowd.stores_received(), 0u) << "a STORE went to an unenrolled node";

    // The crowd vanishes, its addresses still in every table: a publish is not held up by them
    // (a failed dial fails its request at once, and no put targets them anyway).
    crowd.stop();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(na_->publish(entry(domain, "e3", "after"))["stored_on"], 3);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// A TCP listener that records what each connection's first line is, and never answers.
class Honeypot {
public:
    explicit Honeypot(asio::io_context& io)
        : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(io, accept_loop(), asio::detached);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    const std::vector<std::string>& first_lines() const { return lines_; }
    std::size_t connections() const { return connections_; }
    void close() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto& s : sockets_) s->close(ignored);
    }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(net::test::use_nothrow);
            if (ec) co_return;
            ++connections_;
            auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
            sockets_.push_back(s);
            asio::co_spawn(acceptor_.get_executor(), read_line(s), asio::detached);
        }
    }
    asio::awaitable<void> read_line(std::shared_ptr<asio::ip::tcp::socket> s) {
        std::string data;
        auto [ec, n] = co_await asio::async_read_until(*s, asio::dynamic_buffer(data), "\r\n",
                                                       net::test::use_nothrow);
        if (!ec) lines_.push_back(data.substr(0, data.find("\r\n")));
    }

    asio::ip::tcp::acceptor acceptor_;
    std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;
    std::vector<std::string> lines_;
    std::size_t connections_ = 0;
};

TEST_F(DaemonsUnderAttack, ClaimedAddressesAreDialedOnlyAsIpAndPortOncePerClaim) {
    asio::io_context io;
    Honeypot pot(io);
    const auto port = std::to_string(pot.port());
    // The honeypot's port claimed in every shape, with a path, user info, a host name, another
    // host: only the port counts, dialed at the IP the claim came from, with no path.
    const std::vector<std::string> claims = {
        "ws://127.0.0.1:" + port, "ws://127.0.0.1:" + port + "/admin/reset?all=1",
        "ws://user:pw@127.0.0.1:" + port, "ws://localhost:" + port, "ws://192.0.2.1:" + port};
    std::vector<std::pair<crypto::KeyPair, std::unique_ptr<RawWsClient>>> clients;
    const auto claim_all = [&] {
        for (std::size_t i = 0; i < clients.size(); ++i) {
            auto& [keys, c] = clients[i];
            wire::EnvelopeDraft ping;
            ping.address = claims[i % claims.size()];
            ping.payload = wire::Ping{};
            EXPECT_FALSE(
                net::test::run_task(io, c->send(wire::encode_message(ping).value())).value());
        }
    };
    for (int i = 0; i < 20; ++i) {  // 20 claims from 20 fresh keys
        auto& [keys, c] =
            clients.emplace_back(crypto::KeyPair::generate(), std::make_unique<RawWsClient>(io));
        ASSERT_FALSE(net::test::run_task(io, c->connect(na_->peer_port())).value());
        ASSERT_FALSE(net::test::run_task(io, c->handshake(keys, network_)).value());
    }
    claim_all();
    // The dial-back waits the handshake timeout (5 s) for an upgrade the honeypot never answers;
    // then every claim is made again.
    net::test::run_until(
        io, [] { return false; }, 6s);
    claim_all();
    net::test::run_until(
        io, [] { return false; }, 2s);
    EXPECT_EQ(pot.connections(), 1u) << "one dial-back per address, not again after it failed";
    for (const auto& line : pot.first_lines()) EXPECT_EQ(line, "GET / HTTP/1.1");
    // The honeypot is no nocturne node: it never becomes a contact.
    const json peers = na_->peers();
    for (const auto& p : peers["peers"]) {
        EXPECT_EQ(p["address"].get<std::string>().find(":" + port), std::string::npos) << p;
    }
    clients.clear();
    pot.close();
    io.run_for(100ms);
}

TEST_F(DaemonsUnderAttack, PeersThatNeverReadAreCutOffAndMemoryStaysBounded) {
    // A domain index whose pages are large: 64 announcements of ~1.3 KiB each, by two operators
    // (each under the mesh's 50 entries an hour into one domain).
    json big = entry("sec/bulk", "", std::string(250, 't'));
    big["tags"] = json::array();
    for (int t = 0; t < 16; ++t) big["tags"].push_back(std::string(60, static_cast<char>('a' + t)));
    for (int i = 0; i < 64; ++i) {
        big["id"] = "bulk-" + std::to_string(i);
        (i % 2 == 0 ? na_ : nb_)->publish(big);
    }
    const auto rss_before = peak_resident_kib(na_->pid());

    asio::io_context io;
    std::vector<std::unique_ptr<RawWsClient>> readers;
    constexpr int sessions = 10;
    constexpr int requests = 350;  // within the per-session rate burst; ~30 MiB of answers each
    for (int s = 0; s < sessions; ++s) {
        auto& c = *readers.emplace_back(std::make_unique<RawWsClient>(io));
        auto& socket = net::test::beast::get_lowest_layer(c.stream()).socket();
        socket.open(asio::ip::tcp::v4());
        socket.set_option(asio::socket_base::receive_buffer_size(4096));
        const auto keys = crypto::KeyPair::generate();
        ASSERT_FALSE(net::test::run_task(io, c.connect(na_->peer_port())).value());
        ASSERT_FALSE(net::test::run_task(io, c.handshake(keys, network_)).value());
        for (int r = 0; r < requests; ++r) {
            const auto message = RawWsClient::message(
                crypto::random_hex_id(), wire::FindValue{domain_index_key("sec/bulk")});
            ASSERT_FALSE(net::test::run_task(io, c.send(message)).value());
        }
    }
    // A peer that reads is never cut for what we queued (its frames are refused locally); one
    // whose queue stays full with no write completing for 2 s is: wait for the daemon to say so,
    // without reading anything meanwhile.
    const auto cut = [&] {
        const auto r = na_->call("GET", "/local/health");
        const auto h = r ? json::parse(r->body, nullptr, false) : json();
        return h.is_object() ? h["transport"].value("slow_readers", 0) : 0;
    };
    for (int i = 0; i < 1200 && cut() < sessions; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(cut(), sessions);
    // Each one is closed by the daemon: reading what the kernel buffered ends in an error.
    for (auto& c : readers) {
        bool ended = false;
        for (int i = 0; i < 20000 && !ended; ++i) {
            const auto got = net::test::run_task(io, c->read(), 10s);
            ended = !got || got->first;
        }
        EXPECT_TRUE(ended) << "a reader that never read was not cut off";
    }
    if (!sanitized) {
        // Without the byte cap the answers would have taken ~300 MiB.
        const auto peak = peak_resident_kib(na_->pid());
        EXPECT_LT(peak - rss_before, 160u * 1024)
            << "peak " << peak << " KiB, before " << rss_before;
    }
    // And the daemon still serves everyone else.
    EXPECT_EQ(nc_->query("domain=sec/bulk&limit=100").first.size(), 64u);
}

// Holds `n` TCP connections to a port that never say anything, reopening each one the server
// closes, until stopped: the pre-handshake slot holder.
class SlotHolder {
public:
    SlotHolder(std::uint16_t port, int n) {
        thread_ = std::thread([this, port, n] {
            std::vector<int> fds(static_cast<std::size_t>(n), -1);
            while (!stop_) {
                for (auto& fd : fds) {
                    char byte;
                    if (fd >= 0 && ::recv(fd, &byte, 1, MSG_DONTWAIT) != 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK) continue;
                    }
                    if (fd >= 0) ::close(fd);
                    fd = ::socket(AF_INET, SOCK_STREAM, 0);
                    sockaddr_in addr{};
                    addr.sin_family = AF_INET;
                    addr.sin_port = htons(port);
                    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
                        ++opened_;
                    }
                }
                std::this_thread::sleep_for(1ms);
            }
            for (int fd : fds) {
                if (fd >= 0) ::close(fd);
            }
        });
    }
    ~SlotHolder() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    int opened() const { return opened_; }

private:
    std::atomic<bool> stop_{false};
    std::atomic<int> opened_{0};
    std::thread thread_;
};

TEST_F(DaemonsUnderAttack, ANewcomerKeptOutByHeldHandshakeSlotsJoinsOnceTheyAreFreed) {
    TempDir newcomer_home;
    std::unique_ptr<Daemon> newcomer;
    {
        SlotHolder holder(na_->peer_port(), 8);  // the per-IP cap of pre-handshake connections
        ASSERT_TRUE(eventually([&] { return holder.opened() >= 8; }, 5s));
        std::this_thread::sleep_for(200ms);
        newcomer = std::make_unique<Daemon>(newcomer_home.path(), genesis_file_, na_->address());
        EXPECT_TRUE(peer_ids(*newcomer).empty()) << "the newcomer got in despite the attack";
        std::this_thread::sleep_for(2s);
    }
    // The first retry comes 5 s after the failed attempt.
    EXPECT_TRUE(eventually([&] { return peer_ids(*newcomer).size() >= 3; }, 30s))
        << peer_ids(*newcomer).size() << " peers";
    newcomer->stop();
}

TEST_F(DaemonsUnderAttack, StrangersHoldingApiConnectionsDoNotStarveTheTokenHolder) {
    std::vector<std::unique_ptr<HttpClient>> strangers;
    for (int i = 0; i < 100; ++i) {
        auto& s = *strangers.emplace_back(std::make_unique<HttpClient>(na_->port()));
        if (s.connected()) s.send("GET /local/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // no end
    }
    for (int i = 0; i < 5; ++i) {
        const auto r = na_->call("GET", "/local/health");
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
    }
}

TEST_F(DaemonsUnderAttack, ANodeOfAnotherMeshIsRefusedAtTheHandshake) {
    TempDir other_home, other_files;
    const auto other_genesis =
        enroll_single_operator(other_home.path(), other_files.path(), "other-net");
    Daemon other(other_home.path(), other_genesis, na_->address());
    EXPECT_TRUE(peer_ids(other).empty());
    std::this_thread::sleep_for(1s);
    const auto other_id = node_key(other_home.path()).node_id().to_hex();
    for (auto* d : all()) EXPECT_EQ(peer_ids(*d).count(other_id), 0u);
    other.stop();
}

TEST_F(DaemonsUnderAttack, AnAuthorThatLostItsPublishStateUpdatesAndDeletesItsEntries) {
    na_->publish(entry("sec/recovery", "r1", "original"));
    na_->stop();
    lose_publish_state(a_.path());
    na_ = std::make_unique<Daemon>(a_.path(), genesis_file_, nb_->address());
    ASSERT_TRUE(na_->await_peers(2));

    const auto updated = na_->publish(entry("sec/recovery", "r1", "updated"));
    EXPECT_EQ(updated.value("seq", 0), 2) << updated;
    auto [ids, page] = nc_->query("domain=sec/recovery");
    ASSERT_EQ(ids, (std::set<std::string>{"r1"}));
    EXPECT_NE(page["entries"][0]["untrusted"].get<std::string>().find(R"("title":"updated")"),
              std::string::npos);

    // Lost and restarted again: the entry is deleted through the mesh when its domain is named.
    na_->stop();
    lose_publish_state(a_.path());
    na_ = std::make_unique<Daemon>(a_.path(), genesis_file_, nb_->address());
    ASSERT_TRUE(na_->await_peers(2));
    const auto deleted = na_->call("DELETE", "/local/knowledge/r1?domain=sec/recovery");
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->status, 200) << deleted->body;
    EXPECT_TRUE(nc_->query("domain=sec/recovery").first.empty());
}

}  // namespace
}  // namespace nocturne::test
