#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <array>

#include "codec.hpp"

namespace nocturne::wire {
namespace {

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

result<std::string> sign_envelope(const EnvelopeDraft& draft, const crypto::KeyPair& keys,
                                  const Limits& limits) {
    const std::string id = draft.id.empty() ? crypto::random_hex_id(16) : draft.id;
    if (!detail::is_message_id(id) || !optional_id_ok(draft.agent_id) ||
        !optional_id_ok(draft.operator_id) || !optional_address_ok(draft.address)) {
        return make_error_code(errc::value_out_of_range);
    }
    nlohmann::json body = {{"v", 1},
                           {"type", to_string(type_of(draft.payload))},
                           {"id", id},
                           {"sender",
                            {{"node_id", keys.node_id().to_hex()},
                             {"agent_id", draft.agent_id},
                             {"operator_id", draft.operator_id},
                             {"address", draft.address},
                             {"public_key", to_hex(keys.public_key())}}},
                           {"timestamp", draft.timestamp},
                           {"payload", detail::payload_to_json(draft.payload)}};
    auto blob = sign_blob(message_domain, to_compact_json(body), keys);
    std::string frame = to_compact_json(blob_to_json(blob));
    if (frame.size() > limits.max_frame_bytes) return make_error_code(errc::frame_too_large);
    return frame;
}

std::optional<std::string> peek_request_id(std::string_view frame, const Limits& limits) {
    auto outer = parse_json(frame, limits.max_frame_bytes, limits.max_json_depth);
    if (!outer || !outer->is_object()) return std::nullopt;
    const auto body_field = outer->find("body");
    if (body_field == outer->end() || !body_field->is_string()) return std::nullopt;
    auto body = parse_json(body_field->get_ref<const std::string&>(), limits.max_frame_bytes,
                           limits.max_json_depth);
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

result<Envelope> decode_envelope(std::string_view frame, const Limits& limits) {
    auto outer = parse_json(frame, limits.max_frame_bytes, limits.max_json_depth);
    if (!outer) return outer.error();
    auto blob = verify_blob(*outer, message_domain, limits.max_frame_bytes);
    if (!blob) return blob.error();

    // Authentic from here on: the holder of blob->public_key wrote every byte of the body.
    auto body = parse_json(blob->body, limits.max_frame_bytes, limits.max_json_depth);
    if (!body) return body.error();
    ObjectReader r(*body);
    Envelope env;
    const auto version = r.int64("v", 0, INT64_MAX);
    const auto type_name = r.string("type", 16);
    env.id = r.string("id", 64);
    const nlohmann::json* sender = r.object("sender");
    env.timestamp = r.int64("timestamp", 0, INT64_MAX);
    const nlohmann::json* payload = r.object("payload");
    if (auto ec = r.finish()) return ec;
    if (version != 1) return make_error_code(errc::unknown_version);
    auto type = message_type_from_string(type_name);
    if (!type) return type.error();
    env.type = *type;
    if (!detail::is_message_id(env.id)) return make_error_code(errc::value_out_of_range);

    ObjectReader s(*sender);
    env.sender.node_id = s.node_id("node_id");
    env.sender.agent_id = s.string("agent_id", max_identifier_bytes);
    env.sender.operator_id = s.string("operator_id", max_identifier_bytes);
    env.sender.address = s.string("address", limits.max_string_bytes);
    env.sender.public_key = s.hex_fixed<32>("public_key");
    if (auto ec = s.finish()) return ec;
    if (!optional_id_ok(env.sender.agent_id) || !optional_id_ok(env.sender.operator_id) ||
        !optional_address_ok(env.sender.address)) {
        return make_error_code(errc::value_out_of_range);
    }
    if (env.sender.public_key != blob->public_key) {
        return make_error_code(errc::public_key_mismatch);
    }
    if (env.sender.node_id != NodeId::from_public_key(env.sender.public_key).value()) {
        return make_error_code(errc::node_id_mismatch);
    }

    auto decoded = detail::payload_from_json(env.type, *payload, limits);
    if (!decoded) return decoded.error();
    env.payload = std::move(*decoded);
    env.body = std::move(blob->body);
    env.sig = blob->sig;
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
