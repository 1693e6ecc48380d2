#include "enrolled_agents.hpp"

#include <nocturne/trust/certificate.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

namespace nocturne::tools {

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

crypto::KeyPair key_of(std::uint64_t n, std::uint8_t kind) {
    crypto::Seed seed{};
    for (std::size_t i = 0; i < 8; ++i) seed[i] = static_cast<std::uint8_t>(n >> (8 * i));
    seed[31] = kind;
    return crypto::KeyPair::from_seed(seed);
}

std::vector<std::size_t> add_enrolled_agents(
    sim::Simulation& sim, const trust::Genesis& genesis, const std::vector<crypto::KeyPair>& ops,
    const std::function<std::size_t(std::size_t)>& operator_of, std::size_t count,
    std::uint8_t kind, std::mt19937_64& rng, std::vector<crypto::KeyPair>& keys,
    const std::function<Clock::duration(std::size_t)>& skew_of) {
    std::vector<std::size_t> indexes;
    std::map<std::size_t, int> slots;  // operator -> agents so far
    const auto now = sim.clock().unix_seconds();
    std::vector<std::pair<std::size_t, std::size_t>> wave;
    for (std::size_t i = 0; i < count; ++i) {
        keys.push_back(key_of(i, kind));
        const auto index =
            sim.add_agent(keys.back(), genesis, {}, skew_of ? skew_of(i) : Clock::duration{});
        const auto op = operator_of(i);
        auto cert = trust::sign_agent_certificate(genesis.network, ops[op], keys.back(),
                                                  slots[op]++, now, 365 * 24 * 3600, 1);
        sim.agent(index).use_credentials({cert.value()});
        indexes.push_back(index);
        const std::size_t wave_start = i / 64 * 64;
        if (i > 0) {
            const std::size_t joined = wave_start == 0 ? 1 : wave_start;
            wave.emplace_back(index,
                              std::uniform_int_distribution<std::size_t>(0, joined - 1)(rng));
        }
        if ((i + 1) % 64 == 0 || i + 1 == count) {
            sim.bootstrap_all(wave);
            wave.clear();
        }
        if ((i + 1) % 1000 == 0) std::fprintf(stderr, "joined %zu agents\n", i + 1);
    }
    return indexes;
}

}  // namespace nocturne::tools
