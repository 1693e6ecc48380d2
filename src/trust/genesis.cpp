#include <nocturne/core/bytes.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>
#include <nocturne/wire/record.hpp>

#include <algorithm>
#include <set>

namespace nocturne::trust {
namespace {

constexpr std::size_t max_genesis_bytes = 256 * 1024;
constexpr std::size_t max_operators = 256;
constexpr int max_rule_value = 64;
constexpr std::size_t max_seed_bytes = 256;

bool is_valid_seed(std::string_view s) noexcept {
    if (s.size() > max_seed_bytes) return false;
    if (!s.starts_with("ws://") && !s.starts_with("wss://")) return false;
    const auto host = s.substr(s.find("//") + 2);
    if (host.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Everything but the seeds: what the network id hashes.
nlohmann::json encode_rules(const Genesis& genesis);

Error fail(std::string message) {
    return Error(errc::invalid_genesis, std::move(message));
}

}  // namespace

const GenesisOperator* Genesis::find(const crypto::PublicKey& key) const noexcept {
    for (const auto& op : operators)
        if (op.public_key == key) return &op;
    return nullptr;
}

std::string network_id(const Genesis& genesis) {
    const auto text = encode_rules(genesis).dump(2) + "\n";
    return to_hex(sha256(as_bytes(text)));
}

std::string operator_id_of(const crypto::PublicKey& key) {
    return NodeId::from_public_key(key).value().to_hex();
}

bool is_valid_label(std::string_view label) noexcept {
    if (label.empty() || label.size() > 64) return false;
    return std::all_of(label.begin(), label.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

result<Genesis> parse_genesis(std::string_view text) {
    auto json = wire::parse_json(text, max_genesis_bytes, 8);
    if (!json) return fail(std::string("not valid JSON (") + error_name(json.error()) + ")");
    if (!json->is_object()) return fail("the top level must be a JSON object");

    wire::ObjectReader r(*json);
    Genesis g;
    g.version = static_cast<int>(r.int64("version", 0, 1000));
    g.network = r.string("network", wire::max_identifier_bytes);
    g.min_endorsements = static_cast<int>(r.int64("min_endorsements", 1, max_rule_value));
    g.revocation_threshold = static_cast<int>(r.int64("revocation_threshold", 1, max_rule_value));
    g.max_depth = static_cast<int>(r.optional_int64("max_depth", 1, 8).value_or(3));
    g.vote_commit_seconds =
        r.optional_int64("vote_commit_seconds", 1, Genesis::max_vote_window_seconds)
            .value_or(Genesis::default_vote_commit_seconds);
    g.vote_reveal_seconds =
        r.optional_int64("vote_reveal_seconds", 1, Genesis::max_vote_window_seconds)
            .value_or(Genesis::default_vote_reveal_seconds);
    g.claim_seconds = r.optional_int64("claim_seconds", 1, Genesis::max_vote_window_seconds)
                          .value_or(Genesis::default_claim_seconds);
    g.replication =
        static_cast<int>(r.optional_int64("replication", 1, Genesis::max_replication).value_or(0));
    g.anomaly.vote_burst_per_minute =
        static_cast<int>(r.optional_int64("vote_burst_per_minute", 1, max_rule_rate)
                             .value_or(AnomalyRules{}.vote_burst_per_minute));
    g.anomaly.domain_flood_per_hour =
        static_cast<int>(r.optional_int64("domain_flood_per_hour", 1, max_rule_rate)
                             .value_or(AnomalyRules{}.domain_flood_per_hour));
    const auto* ops = r.array("operators", max_operators);
    const auto* seeds = r.optional_array("bootstrap", Genesis::max_bootstrap);
    if (auto ec = r.finish()) {
        return fail(std::string("bad top-level field (") + error_name(ec) +
                    "): expected version, network, min_endorsements, "
                    "revocation_threshold, operators and optionally max_depth, "
                    "vote_commit_seconds, vote_reveal_seconds and claim_seconds (1-604800) and "
                    "replication (1-20), vote_burst_per_minute and domain_flood_per_hour "
                    "(1-1000), bootstrap (up to 16 ws:// addresses)");
    }
    if (g.version != 1) return fail("unsupported version " + std::to_string(g.version));
    if (!wire::is_valid_id(g.network)) return fail("network must be 1-128 of [A-Za-z0-9._-]");

    std::set<crypto::PublicKey> seen;
    for (std::size_t i = 0; i < ops->size(); ++i) {
        const auto& item = (*ops)[i];
        const auto where = "operators[" + std::to_string(i) + "]";
        if (!item.is_object()) return fail(where + " must be an object");
        wire::ObjectReader o(item);
        GenesisOperator op;
        op.public_key = o.hex_fixed<32>("public_key");
        op.label = o.string("label", 64);
        op.max_agents = static_cast<int>(
            o.optional_int64("max_agents", 1, wire::max_agent_index + 1).value_or(5));
        if (auto ec = o.finish()) {
            return fail(where + ": bad field (" + error_name(ec) +
                        "): expected public_key (64 hex), label and optionally "
                        "max_agents (1-64)");
        }
        if (!is_valid_label(op.label)) return fail(where + ": label must be 1-64 printable ASCII");
        if (!seen.insert(op.public_key).second) return fail(where + ": duplicate public_key");
        g.operators.push_back(std::move(op));
    }
    for (std::size_t i = 0; seeds != nullptr && i < seeds->size(); ++i) {
        const auto& seed = (*seeds)[i];
        if (!seed.is_string() || !is_valid_seed(seed.get_ref<const std::string&>())) {
            return fail("bootstrap[" + std::to_string(i) +
                        "] must be a ws://host:port or wss://host:port address");
        }
        g.bootstrap.push_back(seed.get<std::string>());
    }
    if (static_cast<int>(g.operators.size()) < g.min_endorsements) {
        return fail("fewer genesis operators than min_endorsements: nobody could ever enroll");
    }
    if (static_cast<int>(g.operators.size()) < g.revocation_threshold) {
        return fail("fewer genesis operators than revocation_threshold");
    }
    return g;
}

std::string encode_genesis(const Genesis& genesis) {
    auto j = encode_rules(genesis);
    if (!genesis.bootstrap.empty()) j["bootstrap"] = genesis.bootstrap;
    return j.dump(2) + "\n";
}

namespace {

nlohmann::json encode_rules(const Genesis& genesis) {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : genesis.operators) {
        ops.push_back({{"public_key", to_hex(op.public_key)},
                       {"label", op.label},
                       {"max_agents", op.max_agents}});
    }
    nlohmann::json j = {{"version", genesis.version},
                        {"network", genesis.network},
                        {"min_endorsements", genesis.min_endorsements},
                        {"revocation_threshold", genesis.revocation_threshold},
                        {"max_depth", genesis.max_depth},
                        {"operators", ops}};
    if (genesis.vote_commit_seconds != Genesis::default_vote_commit_seconds) {
        j["vote_commit_seconds"] = genesis.vote_commit_seconds;
    }
    if (genesis.vote_reveal_seconds != Genesis::default_vote_reveal_seconds) {
        j["vote_reveal_seconds"] = genesis.vote_reveal_seconds;
    }
    if (genesis.replication != 0) j["replication"] = genesis.replication;
    if (genesis.anomaly.vote_burst_per_minute != AnomalyRules{}.vote_burst_per_minute) {
        j["vote_burst_per_minute"] = genesis.anomaly.vote_burst_per_minute;
    }
    if (genesis.anomaly.domain_flood_per_hour != AnomalyRules{}.domain_flood_per_hour) {
        j["domain_flood_per_hour"] = genesis.anomaly.domain_flood_per_hour;
    }
    if (genesis.claim_seconds != Genesis::default_claim_seconds) {
        j["claim_seconds"] = genesis.claim_seconds;
    }
    return j;
}

}  // namespace

}  // namespace nocturne::trust
