// FIND_VALUE paging: a key holding more records than one answer carries (a domain index) is read
// in pages from each holder (fetch_page), and a read (find_value) does that for every holder it
// hears and merges them.

#include <nocturne/crypto/keys.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/wire/record.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <vector>

namespace nocturne::sim {
namespace {

using namespace std::chrono_literals;

class DhtPaging : public ::testing::Test {
protected:
    DhtPaging() {
        SimConfig c;
        c.seed = 5;
        c.node.k = 4;
        c.node.rpc_timeout = 2s;
        sim_ = std::make_unique<Simulation>(c);
        sim_->add_node();
        while (sim_->size() < 12) sim_->join(sim_->size() - 1);
    }

    // An announcement with a padded title, so that the byte budget rather than the record count
    // may end a page.
    wire::Record announcement(int i, std::size_t pad) {
        const auto now = sim_->clock().unix_seconds();
        nlohmann::json payload = {{"domain", "paging"},
                                  {"entry_id", "e" + std::to_string(i)},
                                  {"title", std::string(pad, 'x')}};
        auto r = wire::sign_record(
            {wire::RecordKind::domain_announce, 1, now, now + 3600, payload.dump()}, author_);
        EXPECT_TRUE(r.has_value());
        return *r;
    }

    void put_all(std::size_t n, std::size_t pad) {
        std::size_t done = 0;
        for (std::size_t i = 0; i < n; ++i) {
            sim_->node(0).put(announcement(static_cast<int>(i), pad), [&](dht::PutResult r) {
                EXPECT_GT(r.stored, 0u);
                ++done;
            });
        }
        sim_->run_for(120s, [&] { return done == n; });
        ASSERT_EQ(done, n);
    }

    // A node that holds nothing under key: its lookup must go over the network.
    std::size_t outsider(const NodeId& key) {
        for (std::size_t i = 1; i < sim_->size(); ++i) {
            if (sim_->store(i).get(key, sim_->clock().unix_seconds())->empty()) return i;
        }
        ADD_FAILURE() << "every node holds the key";
        return 0;
    }

    dht::LookupResult wait(std::function<void(dht::Node::LookupCallback)> start) {
        std::optional<dht::LookupResult> out;
        start([&](dht::LookupResult r) { out = std::move(r); });
        sim_->run_for(60s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value());
        return out.value_or(dht::LookupResult{});
    }

    // A node that holds the key (a holder a reader would page).
    wire::Contact holder_of(const NodeId& key) {
        for (std::size_t i = 0; i < sim_->size(); ++i) {
            if (!sim_->store(i).get(key, sim_->clock().unix_seconds())->empty()) {
                return sim_->contact(i);
            }
        }
        ADD_FAILURE() << "nobody holds the key";
        return sim_->contact(0);
    }

    // Reads every record under key from one holder, page by page, as a read does.
    std::vector<wire::Record> read_holder(std::size_t via, const wire::Contact& holder,
                                          const NodeId& key, std::size_t& pages) {
        std::vector<wire::Record> records;
        std::size_t next = 0;
        pages = 0;
        for (;;) {
            auto page = wait([&](auto cb) { sim_->node(via).fetch_page(holder, key, next, cb); });
            ++pages;
            records.insert(records.end(), page.records.begin(), page.records.end());
            if (page.next_offset <= next || page.next_offset >= page.total) break;
            next = page.next_offset;
        }
        return records;
    }

    crypto::KeyPair author_ = crypto::KeyPair::from_seed(crypto::Seed{9});
    std::unique_ptr<Simulation> sim_;
};

TEST_F(DhtPaging, AHolderAnswersPageByPageAndAReadMergesEveryHolderInFull) {
    put_all(250, 10);
    const auto key = domain_index_key("paging");
    const auto via = outsider(key);
    const auto holder = holder_of(key);
    auto first = wait([&](auto cb) { sim_->node(via).fetch_page(holder, key, 0, cb); });
    EXPECT_EQ(first.records.size(), wire::default_limits.max_records_per_response);
    EXPECT_EQ(first.total, 250u);
    std::size_t pages = 0;
    const auto all = read_holder(via, holder, key, pages);
    EXPECT_EQ(pages, 3u);  // 100 + 100 + 50
    EXPECT_EQ(all.size(), 250u);

    // The read: every holder heard, each paged to its end, merged to one record per identity.
    auto read = wait([&](auto cb) { sim_->node(via).find_value(key, cb); });
    std::set<std::string> slots;
    for (const auto& r : read.records) slots.insert(r.slot);
    EXPECT_EQ(slots.size(), 250u);
    EXPECT_EQ(read.records.size(), 250u);
    EXPECT_GE(read.holders, 3u);  // k = 4 hold it
}

TEST_F(DhtPaging, TheByteBudgetEndsAPageBeforeTheRecordCount) {
    put_all(20, 30 * 1024);  // about 30 KiB each: six fit in 192 KiB
    const auto key = domain_index_key("paging");
    const auto via = outsider(key);
    const auto holder = holder_of(key);
    auto first = wait([&](auto cb) { sim_->node(via).fetch_page(holder, key, 0, cb); });
    EXPECT_EQ(first.total, 20u);
    EXPECT_LT(first.records.size(), 8u);
    EXPECT_GE(first.records.size(), 5u);
    std::size_t pages = 0;
    const auto all = read_holder(via, holder, key, pages);
    EXPECT_EQ(all.size(), 20u);
    EXPECT_GE(pages, 3u);
    EXPECT_EQ(wait([&](auto cb) { sim_->node(via).find_value(key, cb); }).records.size(), 20u);
}

TEST_F(DhtPaging, AHolderThatDoesNotAnswerGivesAFailedPage) {
    put_all(3, 10);
    const auto key = domain_index_key("paging");
    const auto via = outsider(key);
    const auto holder = holder_of(key);
    for (std::size_t i = 0; i < sim_->size(); ++i) {
        if (sim_->node(i).id() == holder.id) sim_->kill(i);
    }
    auto page = wait([&](auto cb) { sim_->node(via).fetch_page(holder, key, 1, cb); });
    EXPECT_EQ(page.failed, 1u);
    EXPECT_TRUE(page.records.empty());
    // The other holders still answer a read.
    EXPECT_EQ(wait([&](auto cb) { sim_->node(via).find_value(key, cb); }).records.size(), 3u);
    // Its own store: a node reads locally without a message.
    const auto h = holder_of(key);
    std::size_t own = 0;
    for (std::size_t i = 0; i < sim_->size(); ++i) {
        if (sim_->node(i).id() == h.id) own = i;
    }
    auto local = wait([&](auto cb) { sim_->node(own).fetch_page(h, key, 0, cb); });
    EXPECT_EQ(local.records.size(),
              sim_->store(own).get(key, sim_->clock().unix_seconds())->size());
}

// A node destroyed while its reads page their holders frees them: a page's callback is owned by
// the request in flight, not by itself (fuzz_peer found that cycle: every read paging at a
// daemon's shutdown leaked, with its records).
TEST_F(DhtPaging, ANodeDestroyedWhileReadsPageFreesThem) {
    put_all(250, 10);
    const auto key = domain_index_key("paging");
    const auto via = outsider(key);
    const auto before = sim_->clock().now();
    EXPECT_EQ(wait([&](auto cb) { sim_->node(via).find_value(key, cb); }).records.size(), 250u);
    const auto read_time = sim_->clock().now() - before;
    std::vector<std::weak_ptr<int>> reads;
    std::size_t finished = 0;
    // Reads started a tenth of a read apart for four reads' time: when the simulation ends, the
    // last ten are in flight, each in another phase (looking up, paging).
    for (int r = 0; r < 40; ++r) {
        auto token = std::make_shared<int>(r);
        reads.push_back(token);
        sim_->node(via).find_value(key, [token, &finished](dht::LookupResult) { ++finished; });
        sim_->run_for(read_time / 10);
    }
    ASSERT_GT(finished, 0u);
    ASSERT_LT(finished, reads.size()) << "no read was in flight at the end";
    sim_.reset();
    for (const auto& r : reads) EXPECT_TRUE(r.expired());
}

}  // namespace
}  // namespace nocturne::sim
