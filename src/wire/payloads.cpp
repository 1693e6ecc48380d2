#include <nocturne/core/hex.hpp>
#include <nocturne/core/overloaded.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>
#include <nocturne/wire/payloads.hpp>

#include "codec.hpp"

namespace nocturne::wire::detail {
namespace {

constexpr std::size_t max_code_bytes = 64;
constexpr std::size_t max_message_bytes = 1024;
constexpr std::size_t max_reason_bytes = 2048;
constexpr std::size_t max_query_text_bytes = 1024;

nlohmann::json contacts_to_json(const std::vector<Contact>& contacts) {
    auto out = nlohmann::json::array();
    for (const auto& c : contacts) out.push_back({{"id", c.id.to_hex()}, {"address", c.address}});
    return out;
}

nlohmann::json records_to_json(const std::vector<Record>& records) {
    auto out = nlohmann::json::array();
    for (const auto& r : records) out.push_back(record_to_json(r));
    return out;
}

// A peer's error code by name; "" is none (ok), an unknown name remote_error.
errc code_from_name(const std::string& name) {
    if (name.empty()) return errc::ok;
    return errc_from_name(name).value_or(errc::remote_error);
}

std::error_code read_contacts(const nlohmann::json* array, std::vector<Contact>& out) {
    if (array == nullptr) return {};
    for (const auto& item : *array) {
        ObjectReader r(item);
        Contact c;
        c.id = r.node_id("id");
        c.address = r.string("address", max_address_bytes);
        if (auto ec = r.finish()) return ec;
        if (!is_contact_address(c.address)) return make_error_code(errc::value_out_of_range);
        out.push_back(std::move(c));
    }
    return {};
}

std::error_code read_records(const nlohmann::json* array, const Limits& limits,
                             std::vector<Record>& out) {
    if (array == nullptr) return {};
    for (const auto& item : *array) {
        auto rec = record_from_json(item, limits);
        if (!rec) return rec.error();
        out.push_back(std::move(*rec));
    }
    return {};
}

// Credentials are certificates only: anything else riding along is a malformed message.
std::error_code read_credentials(const nlohmann::json* array, const Limits& limits,
                                 std::vector<Record>& out) {
    if (auto ec = read_records(array, limits, out)) return ec;
    for (const auto& r : out) {
        if (r.kind != RecordKind::cert && r.kind != RecordKind::agent_cert) {
            return make_error_code(errc::value_out_of_range);
        }
    }
    return {};
}

nlohmann::json ids_to_json(const std::vector<NodeId>& ids) {
    auto out = nlohmann::json::array();
    for (const auto& id : ids) out.push_back(id.to_hex());
    return out;
}

std::error_code read_ids(const nlohmann::json* array, std::vector<NodeId>& out) {
    if (array == nullptr) return {};
    for (const auto& item : *array) {
        if (!item.is_string()) return make_error_code(errc::value_out_of_range);
        const auto& text = item.get_ref<const std::string&>();
        auto id = NodeId::from_hex(text);
        if (!id || !is_lower_hex(text, NodeId::size)) {
            return make_error_code(errc::value_out_of_range);
        }
        out.push_back(*id);
    }
    return {};
}

bool is_sync_prefix(const std::string& text) {
    return text.size() <= max_sync_prefix && is_lower_hex_digits(text);
}

nlohmann::json ranges_to_json(const std::vector<SyncRange>& ranges) {
    auto out = nlohmann::json::array();
    for (const auto& r : ranges) {
        out.push_back({{"p", r.prefix}, {"n", r.count}, {"f", to_hex(r.fingerprint)}});
    }
    return out;
}

std::error_code read_ranges(const nlohmann::json* array, std::vector<SyncRange>& out) {
    if (array == nullptr) return {};
    for (const auto& item : *array) {
        ObjectReader r(item);
        SyncRange range;
        range.prefix = r.string("p", max_sync_prefix);
        range.count = static_cast<std::uint64_t>(r.int64("n", 0, INT64_MAX));
        range.fingerprint = r.hex_fixed<16>("f");
        if (auto ec = r.finish()) return ec;
        if (!is_sync_prefix(range.prefix)) return make_error_code(errc::value_out_of_range);
        out.push_back(std::move(range));
    }
    return {};
}

std::error_code read_prefixes(const nlohmann::json* array, std::vector<std::string>& out) {
    if (array == nullptr) return {};
    for (const auto& item : *array) {
        if (!item.is_string()) return make_error_code(errc::value_out_of_range);
        auto text = item.get<std::string>();
        if (!is_sync_prefix(text)) return make_error_code(errc::value_out_of_range);
        out.push_back(std::move(text));
    }
    return {};
}

std::string read_message_id(ObjectReader& r, std::string_view name) {
    auto id = r.string(name, 64);
    if (!r.error() && !is_message_id(id)) r.fail(errc::value_out_of_range);
    return id;
}

nlohmann::json vote_to_json(const Vote& v) {
    nlohmann::json j = {
        {"entry_key", v.entry_key.to_hex()}, {"phase", v.phase}, {"operator_id", v.operator_id}};
    if (v.commitment) j["commitment"] = *v.commitment;
    if (v.vote) j["vote"] = *v.vote;
    if (v.nonce) j["nonce"] = *v.nonce;
    if (v.reason) j["reason"] = *v.reason;
    return j;
}

result<Vote> vote_from_json(ObjectReader& r) {
    Vote v;
    v.entry_key = r.node_id("entry_key");
    v.phase = r.string("phase", 16);
    v.commitment = r.optional_string("commitment", 64);
    if (auto vote = r.optional_int64("vote", -1, 1)) v.vote = static_cast<int>(*vote);
    v.nonce = r.optional_string("nonce", 128);
    v.reason = r.optional_string("reason", max_reason_bytes);
    v.operator_id = r.string("operator_id", max_identifier_bytes);
    if (auto ec = r.finish()) return ec;
    if (!is_valid_id(v.operator_id)) return make_error_code(errc::value_out_of_range);
    // A commit reveals nothing; a reveal carries no commitment. Mixed messages are malformed.
    if (v.phase == "commit") {
        if (!v.commitment || v.vote || v.nonce || v.reason) {
            return make_error_code(errc::value_out_of_range);
        }
        if (v.commitment->size() != 64 || !from_hex(*v.commitment)) {
            return make_error_code(errc::bad_hex);
        }
    } else if (v.phase == "reveal") {
        if (v.commitment || !v.vote || !v.nonce || v.nonce->empty()) {
            return make_error_code(errc::value_out_of_range);
        }
    } else {
        return make_error_code(errc::value_out_of_range);
    }
    return v;
}

nlohmann::json query_to_json(const Query& q) {
    nlohmann::json j{{"domain", q.domain},
                     {"text", q.text},
                     {"min_confidence", q.min_confidence},
                     {"limit", q.limit}};
    if (q.after) {
        j["after"] = {{"score", q.after->score},
                      {"created", q.after->created},
                      {"author", to_hex(q.after->author)},
                      {"slot", q.after->slot}};
    }
    return j;
}

result<Query> query_from_json(ObjectReader& r) {
    Query q;
    q.domain = r.string("domain", max_identifier_bytes);
    q.text = r.optional_string("text", max_query_text_bytes).value_or("");
    q.min_confidence = r.optional_number("min_confidence", 0.0, 1.0).value_or(0.0);
    q.limit = static_cast<int>(r.optional_int64("limit", 1, 100).value_or(10));
    const nlohmann::json* after = r.optional_object("after");
    if (auto ec = r.finish()) return ec;
    if (!is_valid_domain(q.domain)) return make_error_code(errc::value_out_of_range);
    if (after != nullptr) {
        ObjectReader a(*after);
        QueryPosition p;
        p.score = a.int64("score", 0, INT64_MAX);
        p.created = a.int64("created", 0, INT64_MAX);
        p.author = a.hex_fixed<std::tuple_size_v<crypto::PublicKey>>("author");
        p.slot = a.string("slot", max_identifier_bytes);
        if (auto ec = a.finish()) return ec;
        q.after = std::move(p);
    }
    return q;
}

const char* response_tag(const ResponseBody& body) {
    return std::visit(overloaded{
                          [](const NodesResult&) { return "FIND_NODE"; },
                          [](const ValueResult&) { return "FIND_VALUE"; },
                          [](const StoreResult&) { return "STORE"; },
                          [](const VoteResult&) { return "VOTE"; },
                          [](const QueryResult&) { return "QUERY"; },
                          [](const GossipAck&) { return "GOSSIP"; },
                          [](const ItemsResult&) { return "IWANT"; },
                          [](const SyncResult&) { return "SYNC"; },
                      },
                      body);
}

nlohmann::json response_to_json(const Response& resp) {
    nlohmann::json j = {{"in_reply_to", resp.in_reply_to}, {"for", response_tag(resp.result)}};
    std::visit(overloaded{
                   [&](const NodesResult& r) { j["peers"] = contacts_to_json(r.peers); },
                   [&](const ValueResult& r) {
                       j["records"] = records_to_json(r.records);
                       j["peers"] = contacts_to_json(r.peers);
                       if (!r.credentials.empty()) {
                           j["credentials"] = records_to_json(r.credentials);
                       }
                       if (r.total != 0) j["total"] = r.total;
                       if (r.next != 0) j["next"] = r.next;
                   },
                   [&](const StoreResult& r) {
                       j["stored"] = r.stored;
                       if (r.code != errc::ok) j["code"] = errc_name(r.code);
                       if (r.ack) {
                           j["ack"] = {{"pk", to_hex(r.ack->key)}, {"sig", to_hex(r.ack->sig)}};
                       }
                   },
                   [&](const VoteResult& r) {
                       j["accepted"] = r.accepted;
                       if (r.code != errc::ok) j["code"] = errc_name(r.code);
                   },
                   [&](const QueryResult& r) {
                       j["records"] = records_to_json(r.records);
                       if (!r.credentials.empty()) {
                           j["credentials"] = records_to_json(r.credentials);
                       }
                       if (r.more) j["more"] = true;
                   },
                   [&](const GossipAck& r) {
                       j["accepted"] = r.accepted;
                       if (!r.want.empty()) j["want"] = ids_to_json(r.want);
                   },
                   [&](const ItemsResult& r) {
                       j["items"] = records_to_json(r.items);
                       if (!r.credentials.empty()) {
                           j["credentials"] = records_to_json(r.credentials);
                       }
                   },
                   [&](const SyncResult& r) {
                       j["listed"] = r.listed;
                       j["ids"] = ids_to_json(r.ids);
                       j["ranges"] = ranges_to_json(r.ranges);
                       if (r.skipped != 0) j["skipped"] = r.skipped;
                   },
               },
               resp.result);
    return j;
}

result<Payload> response_from_json(ObjectReader& r, const Limits& limits) {
    Response resp;
    resp.in_reply_to = read_message_id(r, "in_reply_to");
    const auto tag = r.string("for", 16);
    if (r.error()) return r.error();
    std::error_code ec;
    if (tag == "FIND_NODE") {
        NodesResult out;
        ec = read_contacts(r.array("peers", limits.max_peers_per_response), out.peers);
        resp.result = std::move(out);
    } else if (tag == "FIND_VALUE") {
        ValueResult out;
        ec = read_records(r.array("records", limits.max_records_per_response), limits, out.records);
        if (!ec) ec = read_contacts(r.array("peers", limits.max_peers_per_response), out.peers);
        if (!ec) {
            ec = read_credentials(r.optional_array("credentials", limits.max_credentials), limits,
                                  out.credentials);
        }
        out.total = static_cast<std::uint64_t>(r.optional_int64("total", 0, INT64_MAX).value_or(0));
        out.next = static_cast<std::uint64_t>(r.optional_int64("next", 0, INT64_MAX).value_or(0));
        if (!ec && out.total != 0 && out.total < out.records.size()) {
            ec = make_error_code(errc::value_out_of_range);
        }
        resp.result = std::move(out);
    } else if (tag == "STORE") {
        StoreResult out;
        out.stored = r.boolean("stored");
        out.code = code_from_name(r.optional_string("code", max_code_bytes).value_or(""));
        if (const nlohmann::json* ack = r.optional_object("ack")) {
            ObjectReader a(*ack);
            StoreAck parsed;
            parsed.key = a.hex_fixed<std::tuple_size_v<crypto::PublicKey>>("pk");
            parsed.sig = a.hex_fixed<std::tuple_size_v<crypto::Signature>>("sig");
            if (auto fin = a.finish()) return fin;
            out.ack = parsed;
        }
        resp.result = std::move(out);
    } else if (tag == "VOTE") {
        VoteResult out;
        out.accepted = r.boolean("accepted");
        out.code = code_from_name(r.optional_string("code", max_code_bytes).value_or(""));
        resp.result = std::move(out);
    } else if (tag == "QUERY") {
        QueryResult out;
        ec = read_records(r.array("records", limits.max_records_per_response), limits, out.records);
        if (!ec) {
            ec = read_credentials(r.optional_array("credentials", limits.max_credentials), limits,
                                  out.credentials);
        }
        out.more = r.optional_boolean("more").value_or(false);
        resp.result = std::move(out);
    } else if (tag == "GOSSIP") {
        GossipAck out;
        out.accepted = static_cast<std::uint32_t>(
            r.int64("accepted", 0, static_cast<std::int64_t>(limits.max_gossip_items)));
        ec = read_ids(r.optional_array("want", limits.max_gossip_ids), out.want);
        resp.result = std::move(out);
    } else if (tag == "IWANT") {
        ItemsResult out;
        ec = read_records(r.array("items", limits.max_gossip_items), limits, out.items);
        if (!ec) {
            ec = read_credentials(r.optional_array("credentials", limits.max_credentials), limits,
                                  out.credentials);
        }
        resp.result = std::move(out);
    } else if (tag == "SYNC") {
        SyncResult out;
        ec = read_prefixes(r.array("listed", limits.max_sync_ranges), out.listed);
        if (!ec) ec = read_ids(r.array("ids", limits.max_gossip_ids), out.ids);
        if (!ec) ec = read_ranges(r.array("ranges", limits.max_sync_ranges), out.ranges);
        out.skipped = static_cast<std::uint32_t>(
            r.optional_int64("skipped", 0, static_cast<std::int64_t>(limits.max_sync_ranges))
                .value_or(0));
        resp.result = std::move(out);
    } else {
        return make_error_code(errc::unknown_message_type);
    }
    if (ec) return ec;
    if (auto fin = r.finish()) return fin;
    return Payload{std::move(resp)};
}

}  // namespace

bool is_message_id(std::string_view text) noexcept {
    return text.size() == 32 && is_lower_hex_digits(text);
}

nlohmann::json payload_to_json(const Payload& payload) {
    return std::visit(overloaded{
                          [](const Ping&) { return nlohmann::json::object(); },
                          [](const Pong& p) {
                              return nlohmann::json{{"in_reply_to", p.in_reply_to}};
                          },
                          [](const FindNode& p) {
                              nlohmann::json j{{"target", p.target.to_hex()}};
                              if (p.storers) j["storers"] = true;
                              return j;
                          },
                          [](const FindValue& p) {
                              nlohmann::json j{{"key", p.key.to_hex()}};
                              if (p.offset != 0) j["offset"] = p.offset;
                              return j;
                          },
                          [](const Store& p) {
                              nlohmann::json j{{"record", record_to_json(p.record)}};
                              if (!p.credentials.empty()) {
                                  j["credentials"] = records_to_json(p.credentials);
                              }
                              if (p.ack) j["ack"] = true;
                              return j;
                          },
                          [](const Vote& p) { return vote_to_json(p); },
                          [](const Query& p) { return query_to_json(p); },
                          [](const Gossip& p) {
                              nlohmann::json j{{"items", records_to_json(p.items)}};
                              if (!p.credentials.empty()) {
                                  j["credentials"] = records_to_json(p.credentials);
                              }
                              return j;
                          },
                          [](const IHave& p) {
                              return nlohmann::json{{"ids", ids_to_json(p.ids)}};
                          },
                          [](const IWant& p) {
                              return nlohmann::json{{"ids", ids_to_json(p.ids)}};
                          },
                          [](const Sync& p) {
                              return nlohmann::json{{"ranges", ranges_to_json(p.ranges)}};
                          },
                          [](const Response& p) { return response_to_json(p); },
                          [](const ErrorReply& p) {
                              nlohmann::json j{{"in_reply_to", p.in_reply_to},
                                               {"code", errc_name(p.code)},
                                               {"message", p.message}};
                              if (p.retry_after_ms != 0) j["retry_after_ms"] = p.retry_after_ms;
                              return j;
                          },
                      },
                      payload);
}

result<Payload> payload_from_json(MessageType type, const nlohmann::json& object,
                                  const Limits& limits) {
    ObjectReader r(object);
    switch (type) {
        case MessageType::ping: {
            if (auto ec = r.finish()) return ec;
            return Payload{Ping{}};
        }
        case MessageType::pong: {
            Pong p;
            p.in_reply_to = read_message_id(r, "in_reply_to");
            if (auto ec = r.finish()) return ec;
            return Payload{std::move(p)};
        }
        case MessageType::find_node: {
            FindNode p{r.node_id("target")};
            p.storers = r.optional_boolean("storers").value_or(false);
            if (auto ec = r.finish()) return ec;
            return Payload{p};
        }
        case MessageType::find_value: {
            FindValue p{r.node_id("key")};
            p.offset = static_cast<std::uint64_t>(
                r.optional_int64("offset", 0,
                                 static_cast<std::int64_t>(limits.max_find_value_offset))
                    .value_or(0));
            if (auto ec = r.finish()) return ec;
            return Payload{p};
        }
        case MessageType::store: {
            const nlohmann::json* rec = r.object("record");
            const nlohmann::json* creds = r.optional_array("credentials", limits.max_credentials);
            const bool ack = r.optional_boolean("ack").value_or(false);
            if (auto ec = r.finish()) return ec;
            auto record = record_from_json(*rec, limits);
            if (!record) return record.error();
            Store store{std::move(*record)};
            store.ack = ack;
            if (auto ec = read_credentials(creds, limits, store.credentials)) return ec;
            return Payload{std::move(store)};
        }
        case MessageType::vote: {
            auto vote = vote_from_json(r);
            if (!vote) return vote.error();
            return Payload{std::move(*vote)};
        }
        case MessageType::query: {
            auto q = query_from_json(r);
            if (!q) return q.error();
            return Payload{std::move(*q)};
        }
        case MessageType::gossip: {
            Gossip g;
            auto ec = read_records(r.array("items", limits.max_gossip_items), limits, g.items);
            if (!ec) {
                ec = read_credentials(r.optional_array("credentials", limits.max_credentials),
                                      limits, g.credentials);
            }
            if (!ec) ec = r.finish();
            if (ec) return ec;
            return Payload{std::move(g)};
        }
        case MessageType::ihave:
        case MessageType::iwant: {
            std::vector<NodeId> ids;
            auto ec = read_ids(r.array("ids", limits.max_gossip_ids), ids);
            if (!ec) ec = r.finish();
            if (ec) return ec;
            if (type == MessageType::ihave) return Payload{IHave{std::move(ids)}};
            return Payload{IWant{std::move(ids)}};
        }
        case MessageType::sync: {
            Sync s;
            auto ec = read_ranges(r.array("ranges", limits.max_sync_ranges), s.ranges);
            if (!ec) ec = r.finish();
            if (ec) return ec;
            return Payload{std::move(s)};
        }
        case MessageType::response:
            return response_from_json(r, limits);
        case MessageType::error: {
            ErrorReply e;
            e.in_reply_to = read_message_id(r, "in_reply_to");
            e.code = code_from_name(r.string("code", max_code_bytes));
            e.message = r.string("message", max_message_bytes);
            e.retry_after_ms = static_cast<std::uint32_t>(
                r.optional_int64("retry_after_ms", 0, max_retry_after_ms).value_or(0));
            if (auto ec = r.finish()) return ec;
            return Payload{std::move(e)};
        }
    }
    return make_error_code(errc::unknown_message_type);
}

}  // namespace nocturne::wire::detail
