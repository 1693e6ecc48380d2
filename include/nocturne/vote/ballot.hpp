#pragma once

// What a vote is on the wire: two signed `vote` records per voting agent and entry, kept by the
// nodes responsible for prefix_key("vote", entry key), one identity per phase (slot "commit",
// "reveal"), seq = the round. An agent's newer round replaces its older one.
//
//   commit: {"entry_key","phase":"commit","round","operator_id","commitment"}
//   reveal: {"entry_key","phase":"reveal","round","operator_id","choice":1|-1,"salt"[,"reason"]}
//
// commitment = hex SHA-256("nocturne/vote/v1" || entry key (32) || round (8, big-endian) ||
// operator id (32) || choice (1 byte: 0x01 up, 0xff down) || salt (32)). The salt is derived:
// SHA-256 of the agent's Ed25519 signature (deterministic, RFC 8032) over
// "nocturne/vote-salt/v1" || entry key || round, so the agent can always derive it again and
// nobody else can guess it before the reveal.
//
// Rounds follow the mesh's clock, not the entry: round r's commit window is
// [r·C, (r+1)·C) and its reveal window [(r+1)·C, (r+1)·C + R) in unix seconds (C, R: the
// genesis' vote_commit_seconds and vote_reveal_seconds). Commits are sealed while others commit,
// and a vote cast at t is counted by t + C + R at the latest.

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace nocturne::vote {

struct Windows {
    std::int64_t commit_seconds = 3600;
    std::int64_t reveal_seconds = 3600;

    std::uint64_t round_at(std::int64_t unix_seconds) const;
    std::int64_t commit_start(std::uint64_t round) const;
    std::int64_t reveal_start(std::uint64_t round) const;  // = the commit window's end
    std::int64_t reveal_end(std::uint64_t round) const;
};

inline constexpr std::size_t max_reason_bytes = 1024;

struct Commit {
    NodeId entry_key;
    std::uint64_t round = 0;
    std::string operator_id;  // hex
    std::string commitment;   // hex
};

struct Reveal {
    NodeId entry_key;
    std::uint64_t round = 0;
    std::string operator_id;
    int choice = 0;    // 1 or -1
    std::string salt;  // hex
    std::string reason;
};

// The salt an agent uses for an entry and round (see above), hex.
std::string derive_salt(const crypto::KeyPair& agent, const NodeId& entry_key, std::uint64_t round);
std::string commitment_of(const NodeId& entry_key, std::uint64_t round,
                          const std::string& operator_id, int choice, const std::string& salt);
// Whether the reveal opens this commitment (same entry, round and operator; hash matches).
bool opens(const Reveal& reveal, const Commit& commit);

// Signed records. created: the commit's is now, a reveal's the start of its reveal window (so it
// can be signed at commit time and kept until then); both expire after the longest vote TTL.
result<wire::Record> sign_commit(const Commit& commit, std::int64_t created,
                                 const crypto::KeyPair& agent);
result<wire::Record> sign_reveal(const Reveal& reveal, std::int64_t created,
                                 const crypto::KeyPair& agent);

// Strict readers of `vote` records (already verified by decode): exact fields, lower-case hex,
// round = seq. wrong_type / missing_field / unknown_field / value_out_of_range.
result<Commit> commit_from_record(const wire::Record& record);
result<Reveal> reveal_from_record(const wire::Record& record);
bool is_commit(const wire::Record& record);

}  // namespace nocturne::vote
