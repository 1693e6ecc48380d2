#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/dht/rpc_manager.hpp>

#include <array>
#include <cassert>
#include <utility>

namespace nocturne::dht {

RpcManager::RpcManager(const Clock& clock, Clock::duration timeout, std::uint64_t seed)
    : clock_(clock), timeout_(timeout), rng_(seed) {
    if (seed == 0) {
        std::uint64_t s = 0;
        crypto::random_fill({reinterpret_cast<std::uint8_t*>(&s), sizeof s});
        rng_.seed(s);
    }
    std::array<std::uint8_t, 8> prefix{};
    for (auto& b : prefix) b = static_cast<std::uint8_t>(rng_());
    id_prefix_ = to_hex(prefix);
}

RpcManager::~RpcManager() = default;

std::string RpcManager::next_id() {
    std::array<std::uint8_t, 8> counter{};
    std::uint64_t n = ++counter_;
    for (int i = 7; i >= 0; --i, n >>= 8) counter[static_cast<std::size_t>(i)] = n & 0xff;
    return id_prefix_ + to_hex(counter);
}

Message RpcManager::start(const wire::Contact& to, wire::Payload request, Handler handler,
                          bool verify_address) {
    const auto shape = wire::reply_shape(request);
    assert(shape.has_value() && "start() takes requests, not answers");
    Message msg{next_id(), request, verify_address};
    const auto deadline = clock_.now() + timeout_;
    deadlines_.emplace(deadline, msg.id);
    pending_.emplace(msg.id, Pending{to, shape.value_or(wire::ReplyShape{}), std::move(handler),
                                     deadline, std::move(request), verify_address});
    return msg;
}

std::vector<std::pair<wire::Contact, Message>> RpcManager::due_resends() {
    std::vector<std::pair<wire::Contact, Message>> out;
    const auto now = clock_.now();
    while (!deferred_.empty() && deferred_.begin()->first <= now) {
        auto p = std::move(deferred_.begin()->second);
        deferred_.erase(deferred_.begin());
        Message msg{next_id(), p.request, p.verify_address};
        p.deadline = now + timeout_;
        deadlines_.emplace(p.deadline, msg.id);
        out.emplace_back(p.to, msg);
        pending_.emplace(msg.id, std::move(p));
    }
    return out;
}

std::optional<wire::Contact> RpcManager::asked(const InboundMessage& answer) const {
    const std::string* id = wire::in_reply_to(answer.payload);
    const auto it = id != nullptr ? pending_.find(*id) : pending_.end();
    if (it == pending_.end()) return std::nullopt;
    const auto& p = it->second;
    if (!p.to.id.is_zero() && p.to.id != answer.from.id) return std::nullopt;
    if (!p.shape.matches(answer.payload)) return std::nullopt;
    return p.to;
}

RpcManager::Verdict RpcManager::on_answer(const InboundMessage& answer) {
    const std::string* id = wire::in_reply_to(answer.payload);
    const auto it = id != nullptr ? pending_.find(*id) : pending_.end();
    if (it == pending_.end()) return Verdict::unknown;
    // Only the peer we asked may answer: anyone who learns an id must not be able to complete
    // (or fail) another peer's request.
    if (!it->second.to.id.is_zero() && it->second.to.id != answer.from.id) {
        return Verdict::wrong_peer;
    }
    auto pending = std::move(it->second);
    pending_.erase(it);
    if (const auto* e = std::get_if<wire::ErrorReply>(&answer.payload);
        e != nullptr && e->code == errc::rate_limited && pending.deferrals < max_deferrals) {
        ++pending.deferrals;
        const auto wait = std::chrono::milliseconds(std::max<std::uint32_t>(e->retry_after_ms, 1));
        deferred_.emplace(clock_.now() + wait, std::move(pending));
        return Verdict::deferred;
    }
    if (!pending.shape.matches(answer.payload)) {
        if (pending.handler) pending.handler(nullptr);
        return Verdict::wrong_shape;
    }
    if (pending.handler) pending.handler(&answer);
    return Verdict::delivered;
}

bool RpcManager::fail(const std::string& id) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) return false;
    auto pending = std::move(it->second);
    pending_.erase(it);  // its deadlines_ entry is skipped when it comes due
    if (pending.handler) pending.handler(nullptr);
    return true;
}

void RpcManager::expire(const std::function<void(const wire::Contact&)>& on_timeout) {
    const auto now = clock_.now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        const std::string id = deadlines_.begin()->second;
        const auto deadline = deadlines_.begin()->first;
        deadlines_.erase(deadlines_.begin());
        const auto it = pending_.find(id);
        if (it == pending_.end() || it->second.deadline != deadline) continue;  // answered
        auto pending = std::move(it->second);
        pending_.erase(it);
        ++timeouts_;
        if (on_timeout) on_timeout(pending.to);
        if (pending.handler) pending.handler(nullptr);
    }
}

std::optional<Clock::time_point> RpcManager::next_deadline() const {
    std::optional<Clock::time_point> next;
    if (!deadlines_.empty()) next = deadlines_.begin()->first;
    if (!deferred_.empty() && (!next || deferred_.begin()->first < *next)) {
        next = deferred_.begin()->first;
    }
    return next;
}

}  // namespace nocturne::dht
