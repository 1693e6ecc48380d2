#pragma once

#include <nocturne/core/node_id.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nocturne::net {

using SessionId = std::uint64_t;

// What the transport's connection policy knows of one WebSocket session: no socket, no frames.
struct SessionFacts {
    using time_point = std::chrono::steady_clock::time_point;
    enum class Role { inbound, outbound };
    enum class Phase {
        handshaking,  // connect, upgrade, HELLO/AUTH
        open,         // authenticated
        retiring,     // authenticated, but a duplicate of the session that carries the traffic
        closing,      // closing or ended: carries nothing any more
    };

    Role role = Role::inbound;
    Phase phase = Phase::handshaking;
    std::string dial_key;  // outbound: the node id dialed, or "@address" when it is unknown
    NodeId peer;           // proved by the handshake; zero before
    NodeId dialer;         // who opened the TCP connection (both ends agree): set with peer
    bool busy = false;     // frames queued or being written
    time_point last_activity{};
    unsigned unanswered = 0;  // requests sent minus replies received (ids are not matched)
    time_point last_request{};
};

// The connection policy of the WebSocket transport, apart from sockets (the transport asks, the
// sessions do): which session carries traffic to each peer, which of two duplicate sessions wins,
// which idle session makes room for a new one, and which have been idle too long. Pure, so the
// rules are tested without a network (tests/net/session_table_test.cpp).
//
// Duplicates: when two sessions to one peer are authenticated (both dialed at once), both ends keep
// the one dialed by the lower node id, the newer one if one node dialed both; each end knows who
// dialed, so no negotiation is needed.
//
// Room: at max_live sessions (live = handshaking or open) a new one first closes the least
// recently used idle session (open, nothing queued), preferring sessions not awaiting a reply (a
// request sent on it less than reply_horizon ago and not answered); if every session is busy a new
// one still goes ahead below 2 * max_live, and is refused above. Below the cap, the same recycling
// (never of a session awaiting a reply) starts when the process nears its descriptor budget.
//
// Owned by the transport's thread; not thread-safe.
class SessionTable {
public:
    using time_point = SessionFacts::time_point;
    using Role = SessionFacts::Role;
    using Phase = SessionFacts::Phase;

    // A request unanswered for longer than this no longer pins its session (the DHT's RPC
    // timeout is 5 s: a later answer is not waited for).
    static constexpr std::chrono::seconds reply_horizon{10};

    SessionTable(const NodeId& self, std::size_t max_live);

    SessionId add(Role role, std::string dial_key, time_point now);

    // The session proved `peer`. Returns the session that loses to it if one to the same peer was
    // already authenticated: that one (or the new one itself) retires.
    struct Duplicate {
        SessionId winner = 0;
        SessionId loser = 0;
    };
    std::optional<Duplicate> authenticated(SessionId id, const NodeId& peer, time_point now);

    // The session stops carrying traffic (it closes or ended). Returns another open session to the
    // same peer that carries it from now on (a retiring duplicate is promoted back), if any.
    std::optional<SessionId> closing(SessionId id);
    // The session is gone.
    void remove(SessionId id);

    void touch(SessionId id, time_point now);
    void set_busy(SessionId id, bool busy);
    void note_request(SessionId id, time_point now);
    void note_reply(SessionId id);

    // The session that carries traffic to `peer` (open), if any.
    std::optional<SessionId> sender(const NodeId& peer) const;
    // The outbound session still handshaking for this dial key, if any.
    std::optional<SessionId> dialing(const std::string& dial_key) const;

    // Before a new session: what to close to make room for it.
    struct Room {
        bool allowed = true;               // false: every session is busy at the hard limit
        std::optional<SessionId> recycle;  // close this idle one first
        bool recycle_loses_reply = false;  // it awaits a reply, which is lost
    };
    // process_sockets: sessions of every transport in the process; budget: socket_budget().
    Room make_room(time_point now, std::size_t process_sockets, std::size_t budget) const;

    // Open sessions with nothing queued and no frame for idle_timeout: to be closed normally.
    std::vector<SessionId> idle_expired(time_point now,
                                        std::chrono::milliseconds idle_timeout) const;

    const SessionFacts* find(SessionId id) const;
    bool idle(SessionId id) const;
    std::size_t live() const;
    std::size_t size() const { return sessions_.size(); }
    std::size_t inbound() const { return inbound_; }
    std::size_t outbound() const { return outbound_; }

private:
    // True when `a` (the newer) should carry traffic to its peer rather than `b`.
    bool prefer(const SessionFacts& a, const SessionFacts& b) const;
    bool is_idle(const SessionFacts& s) const;
    std::optional<SessionId> pick_idle(time_point now, bool allow_awaiting, bool& awaiting) const;

    NodeId self_;
    std::size_t max_live_;
    SessionId next_id_ = 1;
    std::unordered_map<SessionId, SessionFacts> sessions_;
    std::unordered_map<NodeId, SessionId, NodeIdHash> senders_;
    std::unordered_map<std::string, SessionId> dialing_;
    std::size_t inbound_ = 0;
    std::size_t outbound_ = 0;
};

// The key under which an outbound session is found while it handshakes: the node id it dials or,
// for a bootstrap contact whose id is unknown (zero), "@" and the address.
std::string dial_key(const NodeId& id, std::string_view address);

// Sockets the sessions of this process may hold before every new one first closes an idle one:
// all of RLIMIT_NOFILE but a reserve (at least 64 descriptors, or 1/8 of the limit) for listeners,
// databases, the API and logs. nullopt (no limit): unbounded.
std::size_t socket_budget(std::optional<std::size_t> nofile_limit);

}  // namespace nocturne::net
