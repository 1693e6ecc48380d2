#include <nocturne/app/dev_mesh.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/app/trust_commands.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/crypto/key_file.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <algorithm>
#include <sstream>

#include "command_support.hpp"

namespace nocturne::app {

using detail::fail;

namespace {

// A path as a shell word.
std::string shell_word(const std::string& s) {
    if (s.find_first_of(" \t'\"\\$`;&|<>()*?[]#~!{}") == std::string::npos) return s;
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

int run_dev_mesh(const DevMeshOptions& opts, std::int64_t now, std::ostream& out,
                 std::ostream& err) {
    std::error_code ec;
    if (std::filesystem::exists(opts.dir, ec) && !std::filesystem::is_empty(opts.dir, ec)) {
        return fail(err, opts.dir.string() + " is not empty: choose a new --dir");
    }
    std::filesystem::create_directories(opts.dir, ec);
    if (ec) return fail(err, "cannot create " + opts.dir.string() + ": " + ec.message());
    const auto dir = std::filesystem::absolute(opts.dir);

    trust::Genesis genesis;
    genesis.network = opts.network.empty() ? "dev-" + crypto::random_hex_id(4) : opts.network;
    genesis.min_endorsements = 1;
    // Revocations and quarantines take two operators when there are two.
    genesis.revocation_threshold = std::min(opts.nodes, 2);
    std::vector<std::filesystem::path> homes;
    for (int i = 0; i < opts.nodes; ++i) {
        homes.push_back(dir / ("node-" + std::to_string(i)));
        std::ostringstream quiet;
        if (run_setup({homes.back(), "dev-" + std::to_string(i)}, quiet, err) != 0) return 1;
        auto key = crypto::load_key_file(HomeLayout{homes.back()}.operator_key());
        if (!key)
            return fail(err, "cannot read the operator key just made: " + key.error().message());
        genesis.operators.push_back({key->public_key(), "dev-" + std::to_string(i), 5});
    }
    const auto genesis_file = dir / "genesis.json";
    if (auto e = write_new_file(genesis_file, trust::encode_genesis(genesis), 0644)) {
        return fail(err, "cannot write " + genesis_file.string() + ": " + e.message());
    }
    for (const auto& home : homes) {
        store::MemoryStore scratch;
        trust::TrustState state(genesis, scratch, now);
        std::ostringstream quiet;
        if (run_enroll({home, {}, 5, 0, 365}, state, nullptr, now, quiet, err) != 0) return 1;
    }
    out << "network=" << genesis.network << "\n"
        << "genesis=" << genesis_file.string() << "\n";
    for (int i = 0; i < opts.nodes; ++i) {
        const auto port = static_cast<int>(opts.base_port) + 2 * i;
        out << "start=nocturne-agent start --home "
            << shell_word(homes[static_cast<std::size_t>(i)].string()) << " --genesis "
            << shell_word(genesis_file.string()) << " --port " << port << " --api-port " << port + 1
            << " --loopback-peers";
        if (i > 0) out << " --bootstrap ws://127.0.0.1:" << opts.base_port;
        out << "\n";
    }
    return 0;
}

}  // namespace nocturne::app
