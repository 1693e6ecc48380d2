#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/text_search.hpp>
#include <nocturne/wire/payloads.hpp>

#include <cstdint>
#include <map>
#include <memory>

namespace nocturne::knowledge {

// The holder's side of QUERY: a node that holds domain indexes answers a search of one of them
// from its store's text index (text_indexing.hpp), one page in result order, with the
// certificates of the records' authors. What a peer can make it do per QUERY: one indexed search
// under one key (at most max_query_terms terms; O(page) without terms; with terms O(matches)
// for a rare word, a bounded walk by confidence for a common one) and an answer of at most
// limits.max_records_per_response records and limits.max_value_bytes_per_response bytes. Peers are
// held to their rate by the transport.
//
// Owned by the thread that owns the node; not thread-safe.
class QueryServer {
public:
    // Serves QUERY on `node` from construction on (the node must outlive this).
    explicit QueryServer(dht::Node& node);
    ~QueryServer();
    QueryServer(const QueryServer&) = delete;
    QueryServer& operator=(const QueryServer&) = delete;

    // Searches cost more than lookups: each peer may ask `rate` QUERYs a second (burst `burst`:
    // a busy honest reader stays below it, see docs/performance.md);
    // beyond that it is told to slow down (rate_limited with a retry-after), which an honest
    // reader's RpcManager honours by sending the request again later.
    static constexpr double rate = 100;
    static constexpr double burst = 200;

    // This node's answer to a QUERY: nothing when it holds no records (not a storer), else its
    // best matches after q.after. value_out_of_range for more than max_query_terms terms; a store
    // failure is the store's error.
    result<wire::QueryResult> answer(const wire::Query& q);
    // A peer's QUERY as the handler serves it: within the peer's budget, answer(); else
    // rate_limited, with the wait until the budget allows one more in `retry_after_ms`.
    result<wire::QueryResult> serve(const NodeId& peer, const wire::Query& q,
                                    std::uint32_t& retry_after_ms);

private:
    struct Budget {
        double tokens = burst;
        Clock::time_point last;
    };

    dht::Node& node_;
    std::map<NodeId, Budget> budgets_;  // peers that asked lately (at most max_budgets)
    static constexpr std::size_t max_budgets = 4096;
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

store::TextPosition text_position(const wire::QueryPosition& position);
wire::QueryPosition query_position(const store::TextPosition& position);

}  // namespace nocturne::knowledge
