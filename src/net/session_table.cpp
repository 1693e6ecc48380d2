#include <nocturne/net/session_table.hpp>

#include <algorithm>
#include <limits>

namespace nocturne::net {

SessionTable::SessionTable(const NodeId& self, std::size_t max_live)
    : self_(self), max_live_(max_live) {}

SessionId SessionTable::add(Role role, std::string dial_key, time_point now) {
    const SessionId id = next_id_++;
    SessionFacts facts;
    facts.role = role;
    facts.dial_key = std::move(dial_key);
    facts.last_activity = now;
    if (role == Role::outbound) {
        ++outbound_;
        dialing_[facts.dial_key] = id;
    } else {
        ++inbound_;
    }
    sessions_.emplace(id, std::move(facts));
    return id;
}

bool SessionTable::prefer(const SessionFacts& a, const SessionFacts& b) const {
    const NodeId& lower = std::min(self_, a.peer);
    const bool a_by_lower = a.dialer == lower;
    const bool b_by_lower = b.dialer == lower;
    return a_by_lower || !b_by_lower;  // equal rank: a, the newer one
}

std::optional<SessionTable::Duplicate> SessionTable::authenticated(SessionId id, const NodeId& peer,
                                                                   time_point now) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return std::nullopt;
    auto& s = it->second;
    s.phase = Phase::open;
    s.peer = peer;
    s.dialer = s.role == Role::outbound ? self_ : peer;
    s.last_activity = now;
    if (auto d = dialing_.find(s.dial_key); d != dialing_.end() && d->second == id) {
        dialing_.erase(d);
    }
    auto [current, inserted] = senders_.try_emplace(peer, id);
    if (inserted) return std::nullopt;
    auto& other = sessions_.at(current->second);
    if (prefer(s, other)) {
        const SessionId loser = current->second;
        current->second = id;
        other.phase = Phase::retiring;
        return Duplicate{id, loser};
    }
    s.phase = Phase::retiring;
    return Duplicate{current->second, id};
}

std::optional<SessionId> SessionTable::closing(SessionId id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return std::nullopt;
    auto& s = it->second;
    s.phase = Phase::closing;
    if (auto d = dialing_.find(s.dial_key); d != dialing_.end() && d->second == id) {
        dialing_.erase(d);
    }
    if (s.peer.is_zero()) return std::nullopt;
    auto sender = senders_.find(s.peer);
    if (sender == senders_.end() || sender->second != id) return std::nullopt;
    senders_.erase(sender);
    // Another authenticated session to the same peer (a retiring duplicate) takes over.
    for (auto& [other_id, other] : sessions_) {
        if (other_id != id && other.peer == s.peer &&
            (other.phase == Phase::open || other.phase == Phase::retiring)) {
            other.phase = Phase::open;
            senders_[s.peer] = other_id;
            return other_id;
        }
    }
    return std::nullopt;
}

void SessionTable::remove(SessionId id) {
    (void)closing(id);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    --(it->second.role == Role::inbound ? inbound_ : outbound_);
    sessions_.erase(it);
}

void SessionTable::touch(SessionId id, time_point now) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second.last_activity = now;
}

void SessionTable::set_busy(SessionId id, bool busy) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second.busy = busy;
}

void SessionTable::note_request(SessionId id, time_point now) {
    if (auto it = sessions_.find(id); it != sessions_.end()) {
        ++it->second.unanswered;
        it->second.last_request = now;
    }
}

void SessionTable::note_reply(SessionId id) {
    if (auto it = sessions_.find(id); it != sessions_.end() && it->second.unanswered > 0) {
        --it->second.unanswered;
    }
}

std::optional<SessionId> SessionTable::sender(const NodeId& peer) const {
    const auto it = senders_.find(peer);
    if (it == senders_.end()) return std::nullopt;
    return it->second;
}

std::optional<SessionId> SessionTable::dialing(const std::string& dial_key) const {
    const auto it = dialing_.find(dial_key);
    if (it == dialing_.end()) return std::nullopt;
    return it->second;
}

const SessionFacts* SessionTable::find(SessionId id) const {
    const auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : &it->second;
}

bool SessionTable::is_idle(const SessionFacts& s) const {
    return s.phase == Phase::open && !s.busy;
}

bool SessionTable::idle(SessionId id) const {
    const auto* s = find(id);
    return s != nullptr && is_idle(*s);
}

std::size_t SessionTable::live() const {
    return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(), [](auto& kv) {
        return kv.second.phase == Phase::handshaking || kv.second.phase == Phase::open;
    }));
}

std::optional<SessionId> SessionTable::pick_idle(time_point now, bool allow_awaiting,
                                                 bool& awaiting_out) const {
    // A linear scan: it runs only at the cap, over at most a few hundred sessions, while keeping
    // an LRU list in order would cost a splice on every frame.
    std::optional<SessionId> best;
    bool best_awaiting = false;
    time_point best_activity{};
    for (const auto& [id, s] : sessions_) {
        if (!is_idle(s)) continue;
        const bool awaiting = s.unanswered > 0 && now - s.last_request < reply_horizon;
        if (awaiting && !allow_awaiting) continue;
        if (!best ||
            std::pair(awaiting, s.last_activity) < std::pair(best_awaiting, best_activity)) {
            best = id;
            best_awaiting = awaiting;
            best_activity = s.last_activity;
        }
    }
    awaiting_out = best_awaiting;
    return best;
}

SessionTable::Room SessionTable::make_room(time_point now, std::size_t process_sockets,
                                           std::size_t budget) const {
    Room room;
    const std::size_t n = live();
    if (n >= max_live_) {
        room.recycle = pick_idle(now, true, room.recycle_loses_reply);
        room.allowed = room.recycle.has_value() || n < 2 * max_live_;
        return room;
    }
    // Below our own cap, so never at the cost of an awaited reply. With nothing to close, go
    // ahead: the reserve left by socket_budget() absorbs it.
    if (process_sockets >= budget) room.recycle = pick_idle(now, false, room.recycle_loses_reply);
    return room;
}

std::vector<SessionId> SessionTable::idle_expired(time_point now,
                                                  std::chrono::milliseconds idle_timeout) const {
    std::vector<SessionId> out;
    const auto deadline = now - idle_timeout;
    for (const auto& [id, s] : sessions_) {
        if (is_idle(s) && s.last_activity <= deadline) out.push_back(id);
    }
    return out;
}

std::string dial_key(const NodeId& id, std::string_view address) {
    return id.is_zero() ? "@" + std::string(address) : id.to_hex();
}

std::size_t socket_budget(std::optional<std::size_t> nofile_limit) {
    if (!nofile_limit) return std::numeric_limits<std::size_t>::max();
    const std::size_t limit = *nofile_limit;
    const std::size_t reserve = std::max<std::size_t>(64, limit / 8);
    return limit > reserve ? limit - reserve : 0;
}

}  // namespace nocturne::net
