#include <nocturne/knowledge/entry.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/query_server.hpp>
#include <nocturne/wire/identifiers.hpp>

namespace nocturne::knowledge {

store::TextPosition text_position(const wire::QueryPosition& p) {
    return {p.score, p.created, p.author, p.slot};
}

wire::QueryPosition query_position(const store::TextPosition& p) {
    return {p.score, p.created, p.author, p.slot};
}

QueryServer::QueryServer(dht::Node& node) : node_(node) {
    node_.serve(wire::MessageType::query, [this, alive = std::weak_ptr<char>(alive_)](
                                              const dht::InboundMessage& msg) {
        if (alive.expired()) return;
        const auto& q = std::get<wire::Query>(msg.payload);
        auto result = answer(q);
        if (!result) {
            const bool theirs = result.error().code() == errc::value_out_of_range;
            node_.reply(msg, wire::ErrorReply{
                                 msg.id, theirs ? errc::value_out_of_range : errc::internal_error,
                                 result.error().message()});
            return;
        }
        node_.reply(msg, wire::Response{msg.id, std::move(*result)});
    });
}

QueryServer::~QueryServer() = default;

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
