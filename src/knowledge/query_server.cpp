#include <nocturne/knowledge/entry.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/query_server.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <cmath>

namespace nocturne::knowledge {

store::TextPosition text_position(const wire::QueryPosition& p) {
    return {p.score, p.created, p.author, p.slot};
}

wire::QueryPosition query_position(const store::TextPosition& p) {
    return {p.score, p.created, p.author, p.slot};
}

QueryServer::QueryServer(dht::Node& node) : node_(node) {
    node_.serve(wire::MessageType::query,
                [this, alive = std::weak_ptr<char>(alive_)](const dht::InboundMessage& msg) {
                    if (alive.expired()) return;
                    const auto& q = std::get<wire::Query>(msg.payload);
                    std::uint32_t retry_after_ms = 0;
                    auto result = serve(msg.from.id, q, retry_after_ms);
                    if (!result) {
                        errc code = errc::internal_error;
                        if (result.error() == errc::value_out_of_range)
                            code = errc::value_out_of_range;
                        if (result.error() == errc::rate_limited) code = errc::rate_limited;
                        node_.reply(msg, wire::ErrorReply{msg.id, code, result.error().message(),
                                                          retry_after_ms});
                        return;
                    }
                    node_.reply(msg, wire::Response{msg.id, std::move(*result)});
                });
}

QueryServer::~QueryServer() = default;

result<wire::QueryResult> QueryServer::serve(const NodeId& peer, const wire::Query& q,
                                             std::uint32_t& retry_after_ms) {
    const auto now = node_.clock().now();
    const auto refilled = [&](const Budget& b) {
        return std::min(burst,
                        b.tokens + rate * std::chrono::duration<double>(now - b.last).count());
    };
    if (budgets_.size() >= max_budgets && !budgets_.contains(peer)) {
        // Forget peers whose budget has refilled: they owe nothing.
        std::erase_if(budgets_, [&](const auto& kv) { return refilled(kv.second) >= burst; });
        if (budgets_.size() >= max_budgets) budgets_.erase(budgets_.begin());
    }
    auto& b = budgets_.try_emplace(peer, Budget{burst, now}).first->second;
    b.tokens = refilled(b);
    b.last = now;
    if (b.tokens < 1) {
        retry_after_ms = static_cast<std::uint32_t>(std::ceil((1 - b.tokens) / rate * 1000));
        return Error(errc::rate_limited, "over " + std::to_string(static_cast<int>(rate)) +
                                             " QUERYs a second; retry later");
    }
    b.tokens -= 1;
    return answer(q);
}

result<wire::QueryResult> QueryServer::answer(const wire::Query& q) {
    wire::QueryResult out;
    if (!wire::is_valid_domain(q.domain)) {
        return Error(errc::value_out_of_range, "domain: not a knowledge domain");
    }
    store::TextSearch search;
    search.terms = store::tokenize(q.text);
    if (search.terms.size() > max_query_terms) {
        return Error(errc::value_out_of_range,
                     "text: at most " + std::to_string(max_query_terms) + " words");
    }
    if (!node_.is_storer(node_.id())) return out;
    const auto& limits = node_.config().limits;
    const auto limit = std::min<std::size_t>(std::max(q.limit, 1), limits.max_records_per_response);
    search.min_rank = q.min_confidence;
    search.limit = limit + 1;  // one more says whether there is more
    if (q.after) search.after = text_position(*q.after);
    auto found =
        node_.records().search(domain_index_key(q.domain), search, node_.clock().unix_seconds());
    if (!found) return found.error();
    std::size_t bytes = 0;
    // More may follow only if the search found more rows than one page: a row skipped below (no
    // longer believed) does not make more. Saying "more" with nothing usable makes a reader
    // discount this answer, and a domain whose only author was revoked answered 503.
    out.more = found->size() > limit;
    for (auto& r : *found) {
        if (out.records.size() == limit) {
            out.more = true;
            break;
        }
        const auto size = wire::encode_record(r).size();
        if (bytes + size > limits.max_value_bytes_per_response && !out.records.empty()) {
            out.more = true;
            break;
        }
        // What this node no longer believes (an author revoked since) it does not hand out; the
        // page goes on past it.
        if (!node_.believes(r)) continue;
        bytes += size;
        out.records.push_back(std::move(r));
    }
    out.credentials = node_.credentials_for(out.records);
    return out;
}

}  // namespace nocturne::knowledge
