// The anomaly monitors and quarantine on four enrolled agents over real WebSocket sessions on
// 127.0.0.1 (the unmodified agent::Agent, as the daemon runs it): every node is one of the
// responsible nodes of every key, so every node sees a burst and refuses what is over the rate;
// reports and quarantines reach everyone by gossip.

#include <nocturne/agent/agent.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/quarantine.hpp>
#include <nocturne/vote/ballot.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>

#include "trust/trust_test_util.hpp"

namespace nocturne::anomaly {
namespace {

using namespace std::chrono_literals;
using trust::test::TestWeb;

crypto::KeyPair numbered_key(std::uint32_t n) {
    crypto::Seed seed{};
    for (std::size_t i = 0; i < 4; ++i) seed[i] = static_cast<std::uint8_t>(n >> (8 * i));
    seed[5] = 0x91;
    return crypto::KeyPair::from_seed(seed);
}

class AnomalyMesh : public ::testing::Test {
protected:
    struct Peer {
        explicit Peer(crypto::KeyPair k) : keys(std::move(k)) {}
        crypto::KeyPair keys;
        store::MemoryStore records, trust, published;
        std::unique_ptr<net::WsTransport> transport;
        std::unique_ptr<agent::Agent> agent;
        wire::Contact contact() const { return {agent->id(), transport->address()}; }
    };

    explicit AnomalyMesh(bool dry_run = false) {
        web_.genesis.anomaly.domain_flood_per_hour = 5;  // the default, 50, in fewer steps
        clock_.set(std::chrono::time_point_cast<Clock::duration>(std::chrono::system_clock::now()));
        const auto now = clock_.unix_seconds();
        op_cert_ = web_.cert_record(web_.certificate(op_, web_.genesis_signers(3), now - 60), op_);
        // Three agents of the genesis operators, and V, the agent of a certified operator.
        for (int i = 0; i < 4; ++i) {
            auto p = std::make_unique<Peer>(numbered_key(static_cast<std::uint32_t>(100 + i)));
            p->transport =
                std::make_unique<net::WsTransport>(io_, p->keys, clock_, net::WsTransportConfig{});
            EXPECT_FALSE(p->transport->listen());
            agent::AgentConfig config;
            config.node.rpc_timeout = 2s;
            config.node.table.exempt_loopback = true;
            config.anomaly.dry_run = dry_run;
            p->agent = std::make_unique<agent::Agent>(
                p->keys, p->transport->address(), clock_, *p->transport,
                agent::AgentStores{p->records, p->trust, p->published}, web_.genesis, config);
            p->transport->set_sink(p->agent.get());
            peers_.push_back(std::move(p));
        }
        std::vector<std::vector<wire::Record>> credentials;
        for (int i = 0; i < 3; ++i) {
            credentials.push_back(
                {web_.agent_record(web_.genesis_keys[i], peers_[i]->keys, 0, 1, now - 60)});
        }
        credentials.push_back({op_cert_, web_.agent_record(op_, peers_[3]->keys, 0, 1, now - 60)});
        for (std::size_t i = 0; i < peers_.size(); ++i) {
            peers_[i]->agent->use_credentials(credentials[i]);
            // Everyone knows everyone's certificates (as the sessions' credentials would tell).
            for (const auto& c : credentials) peers_[i]->agent->trust().learn_all(c, now);
        }
        for (auto& a : peers_) {
            for (auto& b : peers_) {
                if (a != b) {
                    a->agent->node().table().add(
                        {b->agent->id(), b->transport->address(), "", clock_.now()});
                }
            }
        }
        for (auto& a : peers_) {
            for (auto& b : peers_) {
                EXPECT_TRUE(a->agent->trust().agent_standing(b->agent->id(), now).has_value());
            }
        }
    }
    ~AnomalyMesh() override {
        for (auto& p : peers_) p->transport->close();
        io_.restart();
        io_.run_for(1s);
    }

    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            io_.restart();
            io_.run_for(2ms);
            clock_.set(
                std::chrono::time_point_cast<Clock::duration>(std::chrono::system_clock::now()));
            for (auto& p : peers_) p->agent->tick();
        }
        return true;
    }
    dht::PutResult put(Peer& from, const wire::Record& r) {
        std::optional<dht::PutResult> out;
        from.agent->node().put(r, [&](dht::PutResult res) { out = std::move(res); });
        EXPECT_TRUE(run_until([&] { return out.has_value(); }));
        return out.value_or(dht::PutResult{});
    }
    wire::Record commit(int entry, std::int64_t created = 0) {
        const vote::Windows w{web_.genesis.vote_commit_seconds, web_.genesis.vote_reveal_seconds};
        const auto now = clock_.unix_seconds();
        if (created == 0) created = now;
        vote::Commit c{content_key("d", "e" + std::to_string(entry)), w.round_at(now), op_id_,
                       std::string(64, 'c')};
        return vote::sign_commit(c, created, peers_[3]->keys).value();
    }
    wire::Record entry(const std::string& id) {
        const auto now = clock_.unix_seconds();
        return wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                                  R"({"domain":"d","id":")" + id + R"("})"},
                                 peers_[3]->keys)
            .value();
    }
    wire::Record announcement(const std::string& id, std::int64_t created,
                              const std::string& domain = "flood", std::uint64_t seq = 1) {
        const auto payload =
            R"({"domain":")" + domain + R"(","entry_id":")" + id +
            R"(","title":"t","content":"c","tags":[],"confidence":0.5,"created":)" +
            std::to_string(created) + R"(,"operator_id":")" + op_id_ + R"("})";
        return wire::sign_record(
                   {wire::RecordKind::domain_announce, seq, created, created + 86400, payload},
                   peers_[3]->keys)
            .value();
    }
    trust::AnomalyReport burst_report(int votes) {
        trust::AnomalyReport r{
            web_.genesis.network,
            op_id_,
            trust::AnomalyType::vote_burst,
            {},
            {web_.agent_record(op_, peers_[3]->keys, 0, 1, clock_.unix_seconds() - 60)}};
        for (int i = 0; i < votes; ++i) r.evidence.push_back(commit(1000 + i));
        return r;
    }

    boost::asio::io_context io_;
    ManualClock clock_;
    TestWeb web_;
    const crypto::KeyPair op_ = numbered_key(7);
    const std::string op_id_ = trust::operator_id_of(op_.public_key());
    wire::Record op_cert_;
    std::vector<std::unique_ptr<Peer>> peers_;
};

TEST_F(AnomalyMesh, AVoteBurstIsRefusedOverTheRateAndAVerifiedReportReachesEveryNode) {
    auto& v = *peers_[3];
    for (int i = 0; i < 20; ++i) {
        const auto res = put(v, commit(i));
        ASSERT_EQ(res.stored, 4u) << i << " " << errc_name(res.first_refusal);
    }
    const auto over = put(v, commit(20));
    EXPECT_EQ(over.stored, 0u);
    EXPECT_EQ(over.first_refusal, errc::over_operator_rate);
    ASSERT_TRUE(run_until([&] {
        for (auto& p : peers_) {
            const auto& reports = p->agent->trust().reports();
            if (reports.empty() || reports.back().operator_id != op_id_) return false;
        }
        return true;
    }));
    for (auto& p : peers_) {
        EXPECT_EQ(p->agent->trust().reports().back().type, trust::AnomalyType::vote_burst);
        EXPECT_EQ(p->agent->trust().reports().back().evidence, 21u);
        EXPECT_EQ(p->agent->anomaly().stats().refused, 1u);
    }
}

TEST_F(AnomalyMesh, FloodingADomainIsCappedAndReportedAndBackdatingDoesNotEscapeTheCap) {
    auto& v = *peers_[3];
    const auto now = clock_.unix_seconds();
    for (int i = 0; i < 5; ++i)
        ASSERT_EQ(put(v, announcement("f" + std::to_string(i), now)).stored, 4u);
    const auto over = put(v, announcement("f5", now));
    EXPECT_EQ(over.stored, 0u);
    EXPECT_EQ(over.first_refusal, errc::over_operator_rate);
    ASSERT_TRUE(run_until([&] {
        for (auto& p : peers_) {
            // One by each storer that refused it.
            const auto& reports = p->agent->trust().reports();
            if (reports.size() < 4 || reports.back().type != trust::AnomalyType::domain_flood) {
                return false;
            }
        }
        return true;
    }));
    // Each storer that refused it reported it (V's own node too: it holds its operator to the
    // mesh's rate like any other).
    std::vector<std::size_t> reports;
    for (auto& p : peers_) reports.push_back(p->agent->trust().reports().size());
    // Signed two hours ago, sent now by their author: counted as they arrive, against ten times
    // the rate, and not reported (their times prove nothing).
    int stored = 0;
    for (int i = 0; i < 51; ++i) {
        const auto res = put(v, announcement("old" + std::to_string(i), now - 7200));
        if (res.stored == 4u) ++stored;
        if (i == 50) {
            EXPECT_EQ(res.first_refusal, errc::over_operator_rate);
        }
    }
    EXPECT_EQ(stored, 50);
    run_until([] { return false; }, 300ms);
    for (std::size_t i = 0; i < peers_.size(); ++i) {
        EXPECT_EQ(peers_[i]->agent->trust().reports().size(), reports[i]);
        EXPECT_EQ(peers_[i]->agent->anomaly().stats().refused, 2u);
    }
}

TEST_F(AnomalyMesh, HonestHeavyUseJustUnderTheRatesRaisesNothing) {
    auto& v = *peers_[3];
    const auto now = clock_.unix_seconds();
    const vote::Windows w{web_.genesis.vote_commit_seconds, web_.genesis.vote_reveal_seconds};
    if (w.round_at(now - 100) != w.round_at(now)) GTEST_SKIP() << "a round began a moment ago";
    // A busy voter: 20 votes in one minute, 20 more a little later (100 s apart: no minute
    // holds more than 20).
    for (int i = 0; i < 20; ++i) ASSERT_EQ(put(v, commit(i, now - 100)).stored, 4u) << i;
    for (int i = 20; i < 40; ++i) ASSERT_EQ(put(v, commit(i, now)).stored, 4u) << i;
    // A bulk import at the rate (5 entries an hour into a domain here), its corrections (new
    // versions of the same entries), and as much again into another domain.
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(put(v, announcement("b" + std::to_string(i), now)).stored, 4u);
        ASSERT_EQ(put(v, announcement("b" + std::to_string(i), now + 1, "flood", 2)).stored, 4u);
        ASSERT_EQ(put(v, announcement("b" + std::to_string(i), now, "other")).stored, 4u);
    }
    run_until([] { return false; }, 300ms);
    for (auto& p : peers_) {
        EXPECT_TRUE(p->agent->trust().reports().empty());
        EXPECT_EQ(p->agent->anomaly().stats().over_rate, 0u);
        EXPECT_EQ(p->agent->anomaly().stats().refused, 0u);
    }
}

class AnomalyMeshDryRun : public AnomalyMesh {
protected:
    AnomalyMeshDryRun() : AnomalyMesh(true) {}
};

TEST_F(AnomalyMeshDryRun, ADryRunReportsTheBurstButStoresEveryVote) {
    auto& v = *peers_[3];
    for (int i = 0; i < 22; ++i) ASSERT_EQ(put(v, commit(i)).stored, 4u) << i;
    ASSERT_TRUE(run_until([&] {
        for (auto& p : peers_) {
            if (p->agent->trust().reports().empty()) return false;
        }
        return true;
    }));
    for (auto& p : peers_) {
        EXPECT_EQ(p->agent->anomaly().stats().refused, 0u);
        EXPECT_EQ(p->agent->anomaly().stats().over_rate, 2u);  // the 21st and the 22nd
        EXPECT_EQ(p->agent->trust().reports().back().type, trust::AnomalyType::vote_burst);
    }
}

TEST_F(AnomalyMesh, AForgedReportIsRefusedAndItsSenderIsNotHeardAgain) {
    auto &a = *peers_[0], &b = *peers_[1];
    auto forged = trust::sign_report_record(burst_report(20), a.keys, clock_.unix_seconds());
    ASSERT_TRUE(forged.has_value());
    std::optional<errc> first, second;
    a.agent->node().request(
        b.contact(), wire::Gossip{{*forged}},
        [&](const dht::InboundMessage* m) { first = m == nullptr ? errc::timeout : errc::ok; });
    ASSERT_TRUE(run_until([&] { return first.has_value(); }));
    EXPECT_TRUE(b.agent->trust().reports().empty());
    EXPECT_EQ(b.agent->gossip().stats().of(gossip::ItemClass::anomaly).refused, 1u);
    EXPECT_EQ(b.agent->gossip().stats().discouraged_peers, 1u);
    // A true report from the same peer, within the hour: not heard.
    auto genuine = trust::sign_report_record(burst_report(21), a.keys, clock_.unix_seconds() + 1);
    a.agent->node().request(
        b.contact(), wire::Gossip{{*genuine}}, [&](const dht::InboundMessage* m) {
            second = m != nullptr && std::holds_alternative<wire::ErrorReply>(m->payload)
                         ? std::get<wire::ErrorReply>(m->payload).code
                         : errc::ok;
        });
    ASSERT_TRUE(run_until([&] { return second.has_value(); }, 30s));
    EXPECT_EQ(*second, errc::invalid_evidence);
    EXPECT_TRUE(b.agent->trust().reports().empty());
}

TEST_F(AnomalyMesh, AQuarantineBlocksTheOperatorsWritesOnEveryNodeUntilItEnds) {
    auto& v = *peers_[3];
    ASSERT_EQ(put(v, entry("before")).stored, 4u);
    const auto now = clock_.unix_seconds();
    trust::QuarantineOrder order{
        web_.genesis.network, op_id_, trust::QuarantineAction::hold, now, now + 3, "",
        "vote burst",         {}};
    for (const auto* s : web_.genesis_signers(3)) {
        order.signatures.push_back(trust::sign_quarantine(*s, order));
    }
    const auto record = trust::sign_quarantine_record(order, web_.genesis_keys[0], now).value();
    ASSERT_FALSE(peers_[0]->agent->trust().learn(record, now));
    ASSERT_TRUE(run_until([&] {
        for (auto& p : peers_) {
            if (p->agent->trust().quarantine_of(op_id_, clock_.unix_seconds()) == nullptr) {
                return false;
            }
        }
        return true;
    }));
    const auto held = put(v, entry("during"));
    EXPECT_EQ(held.stored, 0u);
    EXPECT_EQ(held.first_refusal, errc::operator_quarantined);
    // The hold ends: its writes are taken again, everywhere.
    ASSERT_TRUE(run_until([&] { return clock_.unix_seconds() >= now + 3; }, 6s));
    EXPECT_EQ(put(v, entry("after")).stored, 4u);
}

}  // namespace
}  // namespace nocturne::anomaly
