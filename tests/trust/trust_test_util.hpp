#pragma once

#include <nocturne/crypto/keys.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/revocation.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nocturne::trust::test {

inline constexpr std::int64_t t0 = 1'800'000'000;
inline constexpr std::int64_t year = 365 * 24 * 3600;

inline crypto::KeyPair key(std::uint8_t n) {
    crypto::Seed seed{};
    seed[0] = n;
    seed[1] = 0x5a;
    return crypto::KeyPair::from_seed(seed);
}

// A small Web of Trust to test against: genesis operators are keys 1..n.
struct TestWeb {
    std::vector<crypto::KeyPair> genesis_keys;
    Genesis genesis;

    explicit TestWeb(int operators = 3, int min_endorsements = 3, int threshold = 3) {
        genesis.network = "test-net";
        genesis.min_endorsements = min_endorsements;
        genesis.revocation_threshold = threshold;
        for (int i = 1; i <= operators; ++i) {
            genesis_keys.push_back(key(static_cast<std::uint8_t>(i)));
            genesis.operators.push_back(
                {genesis_keys.back().public_key(), "gen" + std::to_string(i), 5});
        }
    }

    // A certificate for `subject` endorsed by each of `endorsers`.
    TrustCertificate certificate(const crypto::KeyPair& subject,
                                 const std::vector<const crypto::KeyPair*>& endorsers,
                                 std::int64_t created = t0, std::int64_t lifetime = year,
                                 int max_agents = 5) const {
        TrustCertificate c;
        c.network = genesis.network;
        c.public_key = subject.public_key();
        c.operator_id = operator_id_of(c.public_key);
        c.label = "op-" + c.operator_id.substr(0, 8);
        for (const auto* e : endorsers) {
            c.endorsements.push_back(create_endorsement(*e, c.public_key, created));
        }
        c.max_agents = max_agents;
        c.created_at = created;
        c.expires_at = created + lifetime;
        return c;
    }

    std::vector<const crypto::KeyPair*> genesis_signers(std::size_t n) const {
        std::vector<const crypto::KeyPair*> out;
        for (std::size_t i = 0; i < n; ++i) out.push_back(&genesis_keys[i]);
        return out;
    }

    wire::Record cert_record(const TrustCertificate& cert, const crypto::KeyPair& subject,
                             std::uint64_t seq = 1) const {
        auto r = sign_certificate(cert, subject, seq);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
        return *r;
    }

    wire::Record agent_record(const crypto::KeyPair& op, const crypto::KeyPair& agent,
                              int index = 0, std::uint64_t seq = 1,
                              std::int64_t created = t0) const {
        auto r = sign_agent_certificate(genesis.network, op, agent, index, created, year, seq);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
        return *r;
    }

    wire::Record revocation_record(const std::string& operator_id,
                                   const std::vector<const crypto::KeyPair*>& signers,
                                   std::int64_t now = t0) const {
        auto rev = create_revocation(genesis.network, operator_id, "compromised key", now, signers);
        auto r = sign_revocation_record(rev, *signers.front(), now);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
        return *r;
    }
};

}  // namespace nocturne::trust::test
