#pragma once

#include <nocturne/wire/payloads.hpp>

#include <cstddef>
#include <optional>
#include <type_traits>
#include <variant>

namespace nocturne::wire {

// Position of T among a variant's alternatives, usable as a case label.
template <class T, class Variant, std::size_t I = 0>
constexpr std::size_t index_in() {
    static_assert(I < std::variant_size_v<Variant>, "type is not an alternative");
    if constexpr (std::is_same_v<std::variant_alternative_t<I, Variant>, T>) {
        return I;
    } else {
        return index_in<T, Variant, I + 1>();
    }
}
template <class T>
constexpr std::size_t payload_index() {
    return index_in<T, Payload>();
}
template <class T>
constexpr std::size_t result_index() {
    return index_in<T, ResponseBody>();
}

// Pong, Response and ErrorReply answer a request; every other payload asks for an answer.
inline bool is_reply(const Payload& payload) noexcept {
    return std::holds_alternative<Pong>(payload) || std::holds_alternative<Response>(payload) ||
           std::holds_alternative<ErrorReply>(payload);
}

// The in_reply_to of an answer; nullptr for requests.
inline const std::string* in_reply_to(const Payload& payload) noexcept {
    if (const auto* p = std::get_if<Pong>(&payload)) return &p->in_reply_to;
    if (const auto* p = std::get_if<Response>(&payload)) return &p->in_reply_to;
    if (const auto* p = std::get_if<ErrorReply>(&payload)) return &p->in_reply_to;
    return nullptr;
}

// The answer a request expects besides ErrorReply (which answers any request): its Payload
// alternative and, for a Response, its ResponseBody alternative. The RPC layer checks answers
// against it, so a peer cannot answer a FIND_VALUE with a STORE result.
struct ReplyShape {
    std::size_t payload = 0;
    std::size_t result = 0;  // meaningful when payload is Response
    bool matches(const Payload& answer) const noexcept {
        if (std::holds_alternative<ErrorReply>(answer)) return true;
        if (answer.index() != payload) return false;
        const auto* r = std::get_if<Response>(&answer);
        return r == nullptr || r->result.index() == result;
    }
};

// nullopt for payloads that are answers themselves.
inline std::optional<ReplyShape> reply_shape(const Payload& request) noexcept {
    constexpr auto response = payload_index<Response>();
    switch (request.index()) {
        case payload_index<Ping>():
            return ReplyShape{payload_index<Pong>(), 0};
        case payload_index<FindNode>():
            return ReplyShape{response, result_index<NodesResult>()};
        case payload_index<FindValue>():
            return ReplyShape{response, result_index<ValueResult>()};
        case payload_index<Store>():
            return ReplyShape{response, result_index<StoreResult>()};
        case payload_index<Vote>():
            return ReplyShape{response, result_index<VoteResult>()};
        case payload_index<Query>():
            return ReplyShape{response, result_index<QueryResult>()};
        case payload_index<Gossip>():
        case payload_index<IHave>():
            return ReplyShape{response, result_index<GossipAck>()};
        case payload_index<IWant>():
            return ReplyShape{response, result_index<ItemsResult>()};
        case payload_index<Sync>():
            return ReplyShape{response, result_index<SyncResult>()};
        default:
            return std::nullopt;
    }
}

}  // namespace nocturne::wire
