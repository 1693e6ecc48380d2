#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/dht/transport.hpp>
#include <nocturne/wire/reply_shape.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace nocturne::dht {

// The requests a node has sent and awaits answers for (libtorrent's rpc_manager): message ids,
// deadlines, the answer each one expects and the peer that may give it. Pure bookkeeping: the
// node sends what start() returns and feeds answers and time in.
//
// Owned by the thread that owns the node; not thread-safe.
class RpcManager {
public:
    // The answer (ErrorReply included), or nullptr when the request failed: no answer by the
    // deadline, an answer of the wrong shape, or the transport could not deliver it.
    using Handler = std::function<void(const InboundMessage*)>;

    enum class Verdict {
        delivered,    // the awaited answer: its handler ran
        wrong_shape,  // from the right peer but not the expected answer: the request failed
        unknown,      // nobody waits for this id (late, duplicate, or invented)
        wrong_peer,   // somebody else's answer: ignored, the request still waits
        deferred,     // the peer said "slow down": the request is sent again after its
                      // retry-after (due_resends()), its handler still waits
    };

    // seed 0: ids from the system CSPRNG; otherwise a deterministic sequence (the simulator).
    RpcManager(const Clock& clock, Clock::duration timeout, std::uint64_t seed);
    ~RpcManager();
    RpcManager(const RpcManager&) = delete;
    RpcManager& operator=(const RpcManager&) = delete;

    // A fresh message id: 32 hex digits, a per-process random prefix and a counter, so that ids
    // never repeat one a peer may still hold in its replay cache, also after a restart.
    std::string next_id();

    // Registers a request to `to` (to.id zero: whoever answers, for bootstrap seeds) and returns
    // the message to hand to the transport. `request` must be a request (not an answer).
    Message start(const wire::Contact& to, wire::Payload request, Handler handler,
                  bool verify_address = false);

    // The contact a request went to, when `answer` is its awaited answer (on_answer() would
    // deliver it): the address there is proven, we reached the peer at it. Learned before the
    // handler runs, which may go on with lookups that need the contact known.
    std::optional<wire::Contact> asked(const InboundMessage& answer) const;

    // An answer arrived (Pong, Response or ErrorReply).
    Verdict on_answer(const InboundMessage& answer);

    // The request with this id failed before its deadline (the transport could not deliver it):
    // its handler runs with nullptr at once. False if nobody waits for it.
    bool fail(const std::string& id);

    // Requests deferred by a "slow down" whose retry-after has passed, registered again under
    // new ids: send each to its contact. A request is deferred at most max_deferrals times; the
    // next "slow down" reaches its handler like any error answer.
    static constexpr int max_deferrals = 3;
    std::vector<std::pair<wire::Contact, Message>> due_resends();

    // Fails every request whose deadline has passed: on_timeout(peer) first (the routing table
    // counts the failure), then its handler with nullptr.
    void expire(const std::function<void(const wire::Contact&)>& on_timeout);

    std::optional<Clock::time_point> next_deadline() const;
    std::size_t pending() const { return pending_.size() + deferred_.size(); }
    std::uint64_t timeouts() const { return timeouts_; }

private:
    struct Pending {
        wire::Contact to;
        wire::ReplyShape shape;
        Handler handler;
        Clock::time_point deadline;
        wire::Payload request;  // kept to send it again after a "slow down"
        bool verify_address = false;
        int deferrals = 0;
    };

    const Clock& clock_;
    Clock::duration timeout_;
    std::mt19937_64 rng_;
    std::string id_prefix_;
    std::uint64_t counter_ = 0;
    std::uint64_t timeouts_ = 0;
    std::unordered_map<std::string, Pending> pending_;
    std::multimap<Clock::time_point, std::string> deadlines_;
    std::multimap<Clock::time_point, Pending> deferred_;  // by when to send again
};

}  // namespace nocturne::dht
