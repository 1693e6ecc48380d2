#include <nocturne/core/hex.hpp>
#include <nocturne/sim/sybil.hpp>
#include <nocturne/wire/reply_shape.hpp>

#include <algorithm>
#include <array>

namespace nocturne::sim {

std::vector<wire::Contact> SybilCrowd::closest(const NodeId& target, std::size_t n) const {
    std::vector<wire::Contact> out = members_;
    const auto end = out.begin() + static_cast<std::ptrdiff_t>(std::min(n, out.size()));
    std::partial_sort(out.begin(), end, out.end(), [&](const auto& a, const auto& b) {
        return distance_less(target, a.id, b.id);
    });
    out.erase(end, out.end());
    return out;
}

void SybilCrowd::stored(const wire::Record& record) {
    ++stores_received_;
    remember(record);
}

void SybilCrowd::remember(const wire::Record& record) {
    oldest_.try_emplace({record.key, record.kind, record.author, record.slot}, record);
}

std::vector<wire::Record> SybilCrowd::oldest_under(const NodeId& key) const {
    std::vector<wire::Record> out;
    for (auto it = oldest_.lower_bound({key, wire::RecordKind{}, crypto::PublicKey{}, ""});
         it != oldest_.end() && std::get<0>(it->first) == key; ++it) {
        out.push_back(it->second);
    }
    return out;
}

SybilNode::SybilNode(SybilCrowd& crowd, dht::Transport& transport, const NodeId& id,
                     std::string address, std::uint64_t seed)
    : crowd_(crowd),
      transport_(transport),
      id_(id),
      address_(std::move(address)),
      keys_(keys_of(seed)),
      prefix_(seed) {}

crypto::KeyPair SybilNode::keys_of(std::uint64_t seed) {
    crypto::Seed s{};
    for (std::size_t i = 0; i < 8; ++i) s[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    return crypto::KeyPair::from_seed(s);
}

std::string SybilNode::next_id() {
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[i] = static_cast<std::uint8_t>(prefix_ >> (8 * i));
        bytes[8 + i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    }
    ++counter_;
    return to_hex(bytes);
}

void SybilNode::send(const wire::Contact& to, wire::Payload payload) {
    transport_.send(to, dht::Message{next_id(), std::move(payload)});
}

void SybilNode::introduce_to(const std::vector<wire::Contact>& nodes) {
    for (const auto& n : nodes) send(n, wire::Ping{});
}

void SybilNode::on_message(dht::InboundMessage msg) {
    if (wire::is_reply(msg.payload)) return;
    const auto& to = msg.from;
    if (std::holds_alternative<wire::Ping>(msg.payload)) {
        send(to, wire::Pong{msg.id});
    } else if (const auto* find = std::get_if<wire::FindNode>(&msg.payload)) {
        send(to, wire::Response{msg.id, wire::NodesResult{crowd_.closest(find->target, 20)}});
    } else if (const auto* value = std::get_if<wire::FindValue>(&msg.payload)) {
        wire::ValueResult out;
        out.records = crowd_.oldest_under(value->key);
        if (out.records.size() > 64) out.records.resize(64);
        out.total = out.records.size();
        out.peers = crowd_.closest(value->key, 20);
        send(to, wire::Response{msg.id, std::move(out)});
    } else if (const auto* store = std::get_if<wire::Store>(&msg.payload)) {
        crowd_.stored(store->record);
        send(to,
             wire::Response{msg.id, wire::StoreResult{true, errc::ok,
                                                      wire::sign_store_ack(store->record, keys_)}});
    } else {
        send(to, wire::ErrorReply{msg.id, errc::unexpected_message, "no"});
    }
}

}  // namespace nocturne::sim
