#pragma once

// Private to wire/: JSON forms of records and payloads, shared by record.cpp, payloads.cpp and
// envelope.cpp. Public code goes through the text-level functions in record.hpp / envelope.hpp.

#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/record.hpp>

#include <nlohmann/json.hpp>

namespace nocturne::wire::detail {

nlohmann::json record_to_json(const Record& record);
// verify false: see decode_stored_record().
result<Record> record_from_json(const nlohmann::json& object, const Limits& limits,
                                bool verify = true);

nlohmann::json payload_to_json(const Payload& payload);
result<Payload> payload_from_json(MessageType type, const nlohmann::json& object,
                                  const Limits& limits);

bool is_message_id(std::string_view text) noexcept;

}  // namespace nocturne::wire::detail
