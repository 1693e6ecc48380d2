#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <array>

#include "codec.hpp"

namespace nocturne::wire {
namespace {

// 2: unsigned, inside the session's channel (1 was a signed frame on a plain stream).
constexpr int message_version = 2;

struct TypeName {
    MessageType type;
    std::string_view name;
};

constexpr std::array<TypeName, 13> type_names{{
    {MessageType::ping, "PING"},
    {MessageType::pong, "PONG"},
    {MessageType::find_node, "FIND_NODE"},
    {MessageType::find_value, "FIND_VALUE"},
    {MessageType::store, "STORE"},
    {MessageType::vote, "VOTE"},
    {MessageType::query, "QUERY"},
    {MessageType::gossip, "GOSSIP"},
    {MessageType::ihave, "IHAVE"},
    {MessageType::iwant, "IWANT"},
    {MessageType::sync, "SYNC"},
    {MessageType::response, "RESPONSE"},
    {MessageType::error, "ERROR"},
}};

// agent and operator ids are optional (an unenrolled node routes but cannot write).
bool optional_id_ok(const std::string& id) {
    return id.empty() || is_valid_id(id);
}
bool optional_address_ok(const std::string& a) {
    return a.empty() || is_valid_address(a);
}

}  // namespace

const char* to_string(MessageType type) noexcept {
    for (const auto& t : type_names)
        if (t.type == type) return t.name.data();
    return "UNKNOWN";
}

result<MessageType> message_type_from_string(std::string_view text) {
    for (const auto& t : type_names)
        if (t.name == text) return t.type;
    return make_error_code(errc::unknown_message_type);
}

MessageType type_of(const Payload& payload) noexcept {
    // Payload alternatives are declared in MessageType order.
    return static_cast<MessageType>(payload.index());
}

result<std::string> encode_message(const EnvelopeDraft& draft, const Limits& limits) {
    const std::string id = draft.id.empty() ? crypto::random_hex_id(16) : draft.id;
    if (!detail::is_message_id(id) || !optional_id_ok(draft.agent_id) ||
        !optional_id_ok(draft.operator_id) || !optional_address_ok(draft.address)) {
        return make_error_code(errc::value_out_of_range);
    }
    const nlohmann::json body = {{"v", message_version},
                                 {"type", to_string(type_of(draft.payload))},
                                 {"id", id},
                                 {"sender",
                                  {{"agent_id", draft.agent_id},
                                   {"operator_id", draft.operator_id},
                                   {"address", draft.address}}},
                                 {"payload", detail::payload_to_json(draft.payload)}};
    std::string message = to_compact_json(body);
    if (message.size() > limits.max_frame_bytes) return make_error_code(errc::frame_too_large);
    return message;
}

std::optional<std::string> peek_request_id(std::string_view message, const Limits& limits) {
    auto body = parse_json(message, limits.max_frame_bytes, limits.max_json_depth);
    if (!body || !body->is_object()) return std::nullopt;
    const auto type = body->find("type");
    const auto id = body->find("id");
    if (type == body->end() || id == body->end() || !type->is_string() || !id->is_string()) {
        return std::nullopt;
    }
    const auto kind = message_type_from_string(type->get_ref<const std::string&>());
    if (!kind || *kind == MessageType::pong || *kind == MessageType::response ||
        *kind == MessageType::error) {
        return std::nullopt;
    }
    std::string text = id->get<std::string>();
    if (!detail::is_message_id(text)) return std::nullopt;
    return text;
}

result<Envelope> decode_message(std::string_view message, const Limits& limits) {
    auto body = parse_json(message, limits.max_frame_bytes, limits.max_json_depth);
    if (!body) return body.error();
    ObjectReader r(*body);
    Envelope env;
    const auto version = r.int64("v", 0, INT64_MAX);
    const auto type_name = r.string("type", 16);
    env.id = r.string("id", 64);
    const nlohmann::json* sender = r.object("sender");
    const nlohmann::json* payload = r.object("payload");
    if (auto ec = r.finish()) return ec;
    if (version != message_version) return make_error_code(errc::unknown_version);
    auto type = message_type_from_string(type_name);
    if (!type) return type.error();
    env.type = *type;
    if (!detail::is_message_id(env.id)) return make_error_code(errc::value_out_of_range);

    ObjectReader s(*sender);
    env.sender.agent_id = s.string("agent_id", max_identifier_bytes);
    env.sender.operator_id = s.string("operator_id", max_identifier_bytes);
    env.sender.address = s.string("address", limits.max_string_bytes);
    if (auto ec = s.finish()) return ec;
    if (!optional_id_ok(env.sender.agent_id) || !optional_id_ok(env.sender.operator_id) ||
        !optional_address_ok(env.sender.address)) {
        return make_error_code(errc::value_out_of_range);
    }

    auto decoded = detail::payload_from_json(env.type, *payload, limits);
    if (!decoded) return decoded.error();
    env.payload = std::move(*decoded);
    return env;
}

}  // namespace nocturne::wire

namespace nocturne::wire {
// type_of() relies on Payload listing its alternatives in MessageType order.
static_assert(
    std::is_same_v<
        std::variant_alternative_t<static_cast<std::size_t>(MessageType::store), Payload>, Store>);
static_assert(std::is_same_v<
              std::variant_alternative_t<static_cast<std::size_t>(MessageType::error), Payload>,
              ErrorReply>);
static_assert(std::variant_size_v<Payload> == type_names.size());
}  // namespace nocturne::wire
