#pragma once

#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/record.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace nocturne::wire::test {

inline constexpr std::int64_t t0 = 1'700'000'000;

inline RecordDraft knowledge_draft(std::string id = "entry-1", std::uint64_t seq = 1) {
    return {RecordKind::knowledge, seq, t0, t0 + 3600,
            nlohmann::json{{"domain", "go/concurrency"}, {"id", id}, {"title", "Channels"}}.dump()};
}

// Splits a frame into its outer object and parsed body, for tampering.
struct Opened {
    nlohmann::json outer;
    nlohmann::json body;
};

inline Opened open_frame(const std::string& frame) {
    auto outer = nlohmann::json::parse(frame);
    auto body = nlohmann::json::parse(outer.at("body").get<std::string>());
    return {outer, body};
}

// Replaces the body but keeps the original signature: what a man in the middle can do.
inline std::string with_body_keep_sig(const Opened& o, const nlohmann::json& body) {
    auto outer = o.outer;
    outer["body"] = body.dump();
    return outer.dump();
}

// Signs an arbitrary body with `keys`: what a peer with its own key can do.
inline std::string resigned(std::string_view domain, const nlohmann::json& body,
                            const crypto::KeyPair& keys) {
    return blob_to_json(sign_blob(domain, body.dump(), keys)).dump();
}

}  // namespace nocturne::wire::test
