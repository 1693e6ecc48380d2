#include <nocturne/trust/revocation_watch.hpp>
#include <nocturne/wire/identifiers.hpp>

namespace nocturne::trust {

namespace {

std::size_t look_up(dht::Node& node, const std::vector<std::string>& operators) {
    for (const auto& op : operators) {
        node.find_value(prefix_key(wire::key_prefix::revocation, op), [](dht::LookupResult) {});
    }
    return operators.size();
}

}  // namespace

std::size_t watch_revocations(dht::Node& node, const TrustState& state) {
    return look_up(node, state.known_operators());
}

std::size_t watch_new_operators(dht::Node& node, TrustState& state) {
    return look_up(node, state.take_new_operators());
}

}  // namespace nocturne::trust
