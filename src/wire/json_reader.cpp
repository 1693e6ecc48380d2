#include <nocturne/core/hex.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <cmath>

namespace nocturne::wire {

std::size_t json_depth(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    std::size_t max_seen = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_seen) {
                max_seen = depth;
                if (max_seen > limit) return max_seen;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return max_seen;
}

result<nlohmann::json> parse_json(std::string_view text, std::size_t max_bytes,
                                  std::size_t max_depth) {
    if (text.size() > max_bytes) return make_error_code(errc::frame_too_large);
    if (json_depth(text, max_depth) > max_depth) return make_error_code(errc::too_deep);
    auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                     /*allow_exceptions=*/false, /*ignore_comments=*/false);
    if (doc.is_discarded()) return make_error_code(errc::malformed_json);
    // json converts to nearly anything, Error included: say which side it is.
    return result<nlohmann::json>(boost::system::in_place_value, std::move(doc));
}

std::string to_compact_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

result<bytes> decode_hex_field(const nlohmann::json& value, std::size_t expected_bytes) {
    if (!value.is_string()) return make_error_code(errc::wrong_type);
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() != 2 * expected_bytes) return make_error_code(errc::bad_length);
    return from_hex(text);
}

ObjectReader::ObjectReader(const nlohmann::json& object) : object_(object) {
    if (!object_.is_object()) error_ = make_error_code(errc::wrong_type);
}

const nlohmann::json* ObjectReader::field(std::string_view name, bool required) {
    if (error_) return nullptr;
    const auto it = object_.find(name);
    if (it == object_.end()) {
        if (required) error_ = make_error_code(errc::missing_field);
        return nullptr;
    }
    ++consumed_;
    return &*it;
}

std::string ObjectReader::string(std::string_view name, std::size_t max_bytes) {
    auto value = optional_string(name, max_bytes);
    if (!value && !error_) error_ = make_error_code(errc::missing_field);
    return value.value_or(std::string{});
}

std::optional<std::string> ObjectReader::optional_string(std::string_view name,
                                                         std::size_t max_bytes) {
    const nlohmann::json* value = field(name, false);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) {
        fail(errc::wrong_type);
        return std::nullopt;
    }
    const auto& text = value->get_ref<const std::string&>();
    if (text.size() > max_bytes) {
        fail(errc::value_out_of_range);
        return std::nullopt;
    }
    return text;
}

NodeId ObjectReader::node_id(std::string_view name) {
    return NodeId(hex_fixed<NodeId::size>(name));
}

std::optional<std::int64_t> ObjectReader::optional_int64(std::string_view name, std::int64_t min,
                                                         std::int64_t max) {
    const nlohmann::json* value = field(name, false);
    if (value == nullptr) return std::nullopt;
    std::int64_t out = 0;
    if (value->is_number_unsigned()) {
        const auto u = value->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(INT64_MAX)) {
            fail(errc::value_out_of_range);
            return std::nullopt;
        }
        out = static_cast<std::int64_t>(u);
    } else if (value->is_number_integer()) {
        out = value->get<std::int64_t>();
    } else {
        fail(errc::wrong_type);
        return std::nullopt;
    }
    if (out < min || out > max) {
        fail(errc::value_out_of_range);
        return std::nullopt;
    }
    return out;
}

std::int64_t ObjectReader::int64(std::string_view name, std::int64_t min, std::int64_t max) {
    auto value = optional_int64(name, min, max);
    if (!value && !error_) error_ = make_error_code(errc::missing_field);
    return value.value_or(0);
}

std::optional<double> ObjectReader::optional_number(std::string_view name, double min, double max) {
    const nlohmann::json* value = field(name, false);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number()) {
        fail(errc::wrong_type);
        return std::nullopt;
    }
    const double out = value->get<double>();
    if (!std::isfinite(out) || out < min || out > max) {
        fail(errc::value_out_of_range);
        return std::nullopt;
    }
    return out;
}

double ObjectReader::number(std::string_view name, double min, double max) {
    auto value = optional_number(name, min, max);
    if (!value && !error_) error_ = make_error_code(errc::missing_field);
    return value.value_or(0.0);
}

std::optional<bool> ObjectReader::optional_boolean(std::string_view name) {
    const nlohmann::json* value = field(name, false);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) {
        fail(errc::wrong_type);
        return std::nullopt;
    }
    return value->get<bool>();
}

bool ObjectReader::boolean(std::string_view name) {
    auto value = optional_boolean(name);
    if (!value && !error_) error_ = make_error_code(errc::missing_field);
    return value.value_or(false);
}

const nlohmann::json* ObjectReader::object(std::string_view name) {
    const nlohmann::json* value = field(name, true);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) {
        fail(errc::wrong_type);
        return nullptr;
    }
    return value;
}

const nlohmann::json* ObjectReader::optional_object(std::string_view name) {
    const nlohmann::json* value = field(name, false);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) {
        fail(errc::wrong_type);
        return nullptr;
    }
    return value;
}

const nlohmann::json* ObjectReader::optional_array(std::string_view name, std::size_t max_items) {
    const nlohmann::json* value = field(name, false);
    if (value == nullptr) return nullptr;
    if (!value->is_array()) {
        fail(errc::wrong_type);
        return nullptr;
    }
    if (value->size() > max_items) {
        fail(errc::value_out_of_range);
        return nullptr;
    }
    return value;
}

const nlohmann::json* ObjectReader::array(std::string_view name, std::size_t max_items) {
    const nlohmann::json* value = optional_array(name, max_items);
    if (value == nullptr && !error_) error_ = make_error_code(errc::missing_field);
    return value;
}

std::error_code ObjectReader::finish() {
    if (error_) return error_;
    if (consumed_ != object_.size()) error_ = make_error_code(errc::unknown_field);
    return error_;
}

}  // namespace nocturne::wire
