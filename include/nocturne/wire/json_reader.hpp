#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace nocturne::wire {

// Parses untrusted JSON text: size and nesting are checked on the raw text first (so a hostile
// "[[[[..." costs a linear scan, not a deep parse), then nlohmann parses without exceptions.
result<nlohmann::json> parse_json(std::string_view text, std::size_t max_bytes,
                                  std::size_t max_depth);

// Compact JSON text. Never throws: invalid UTF-8 (which parse_json never produces) is replaced.
std::string to_compact_json(const nlohmann::json& value);

// Nesting depth of JSON text (brackets outside strings); counting stops past `limit`.
std::size_t json_depth(std::string_view text, std::size_t limit);

// Reads the fields of one untrusted JSON object. The first problem is remembered and every later
// read is a no-op, so decoders read all fields straight through and check error() once:
//
//   ObjectReader r(j);
//   auto id = r.string("id", 64);
//   auto ts = r.int64("timestamp");
//   if (auto ec = r.finish()) return ec;   // also rejects fields nobody read
class ObjectReader {
public:
    explicit ObjectReader(const nlohmann::json& object);

    std::string string(std::string_view name, std::size_t max_bytes);
    std::optional<std::string> optional_string(std::string_view name, std::size_t max_bytes);
    // Lower-case hex of exactly N bytes.
    template <std::size_t N>
    std::array<std::uint8_t, N> hex_fixed(std::string_view name);
    NodeId node_id(std::string_view name);
    std::int64_t int64(std::string_view name, std::int64_t min, std::int64_t max);
    std::optional<std::int64_t> optional_int64(std::string_view name, std::int64_t min,
                                               std::int64_t max);
    double number(std::string_view name, double min, double max);
    std::optional<double> optional_number(std::string_view name, double min, double max);
    bool boolean(std::string_view name);
    std::optional<bool> optional_boolean(std::string_view name);
    // Returns nullptr (and records an error) when missing or not of that type.
    const nlohmann::json* object(std::string_view name);
    const nlohmann::json* optional_object(std::string_view name);
    const nlohmann::json* array(std::string_view name, std::size_t max_items);
    const nlohmann::json* optional_array(std::string_view name, std::size_t max_items);

    void fail(errc e) {
        if (!error_) error_ = make_error_code(e);
    }
    std::error_code error() const { return error_; }
    // The error so far, or errc::unknown_field when the object has a field nobody read.
    std::error_code finish();

private:
    const nlohmann::json* field(std::string_view name, bool required);

    const nlohmann::json& object_;
    std::error_code error_;
    std::size_t consumed_ = 0;
};

// Out-of-line helper for hex_fixed so the template stays small.
result<bytes> decode_hex_field(const nlohmann::json& value, std::size_t expected_bytes);

template <std::size_t N>
std::array<std::uint8_t, N> ObjectReader::hex_fixed(std::string_view name) {
    std::array<std::uint8_t, N> out{};
    const nlohmann::json* value = field(name, true);
    if (value == nullptr) return out;
    auto decoded = decode_hex_field(*value, N);
    if (!decoded) {
        if (!error_) error_ = decoded.error();
        return out;
    }
    for (std::size_t i = 0; i < N; ++i) out[i] = (*decoded)[i];
    return out;
}

}  // namespace nocturne::wire
