#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/text_search.hpp>
#include <nocturne/wire/payloads.hpp>

#include <memory>

namespace nocturne::knowledge {

// The holder's side of QUERY: a node that holds domain indexes answers a search of one of them
// from its store's text index (text_indexing.hpp), one page in result order, with the
// certificates of the records' authors. What a peer can make it do per QUERY: one indexed search
// under one key (at most max_query_terms terms, O(matches) for a text search, O(page) without)
// and an answer of at most limits.max_records_per_response records and
// limits.max_value_bytes_per_response bytes. Peers are held to their rate by the transport.
//
// Owned by the thread that owns the node; not thread-safe.
class QueryServer {
public:
    // Serves QUERY on `node` from construction on (the node must outlive this).
    explicit QueryServer(dht::Node& node);
    ~QueryServer();
    QueryServer(const QueryServer&) = delete;
    QueryServer& operator=(const QueryServer&) = delete;

    // This node's answer to a QUERY: nothing when it holds no records (not a storer), else its
    // best matches after q.after. value_out_of_range for more than max_query_terms terms; a store
    // failure is the store's error.
    result<wire::QueryResult> answer(const wire::Query& q);

private:
    dht::Node& node_;
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

store::TextPosition text_position(const wire::QueryPosition& position);
wire::QueryPosition query_position(const store::TextPosition& position);

}  // namespace nocturne::knowledge
