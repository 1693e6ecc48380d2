// setup, endorse, enroll, revoke sign|publish, quarantine sign|lift|publish: joining and policing
// the Web of Trust.

#include <nocturne/app/home.hpp>
#include <nocturne/app/peer_snapshot.hpp>
#include <nocturne/app/quarantine_commands.hpp>
#include <nocturne/app/trust_commands.hpp>
#include <nocturne/app/trust_files.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/daemon/mesh_client.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <iostream>
#include <memory>

#include "cli.hpp"

namespace nocturne::cli {
namespace {

std::int64_t now() {
    return SystemClock{}.unix_seconds();
}

std::vector<std::filesystem::path> split(const std::string& list) {
    std::vector<std::filesystem::path> out;
    std::size_t start_at = 0;
    while (start_at <= list.size() && !list.empty()) {
        const auto comma = list.find(',', start_at);
        const auto item = list.substr(start_at, comma - start_at);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string::npos) break;
        start_at = comma + 1;
    }
    return out;
}

// What the one-shot trust commands that talk to the mesh share: the genesis, a trust state to
// learn certificates into, and a client joined through --bootstrap (or the home's saved peers).
struct MeshCommand {
    std::optional<std::string> home;
    std::optional<std::string> genesis;
    std::vector<std::string> bootstrap;

    store::MemoryStore scratch;
    std::unique_ptr<trust::TrustState> state;
    std::unique_ptr<daemon::MeshClient> mesh;

    // Returns an exit code on failure.
    std::optional<int> prepare(const std::optional<std::filesystem::path>& home_dir) {
        auto g = app::load_genesis(as_path(genesis));
        if (!g) return fail(g.error().message());
        state = std::make_unique<trust::TrustState>(std::move(*g), scratch, now());
        std::vector<std::string> seeds = bootstrap;
        if (seeds.empty() && home_dir) {
            if (auto saved = app::load_peer_snapshot(app::HomeLayout{*home_dir}.peers_file())) {
                for (const auto& c : *saved) seeds.push_back(c.address);
            }
        }
        if (!seeds.empty()) {
            mesh = std::make_unique<daemon::MeshClient>(*state);
            if (mesh->join(seeds) == 0) {
                std::cerr << "nocturne-agent: warning: none of " << seeds.size()
                          << " peers answered\n";
            }
        }
        return std::nullopt;
    }
};

void add_setup(CLI::App& app, Commands& commands) {
    struct Options {
        std::optional<std::string> home;
        app::SetupOptions setup;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "setup", "Create this operator's key and the node key; prints the operator public key");
    add_home_option(cmd, o->home);
    cmd->add_option("--label", o->setup.label, "Operator name, e.g. your organisation")->required();
    commands.add(cmd, [o] {
        auto home = home_or_fail(o->home);
        if (!home) return 1;
        o->setup.home = *home;
        return app::run_setup(o->setup, std::cout, std::cerr);
    });
}

void add_endorse(CLI::App& app, Commands& commands) {
    struct Options {
        app::EndorseOptions endorse;
        std::optional<std::string> out;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("endorse",
                                   "Endorse another operator's public key with your operator key");
    cmd->add_option("--operator", o->endorse.operator_key,
                    "Public key of the operator to endorse (64 hex digits, from its setup)")
        ->required();
    cmd->add_option("--key", o->endorse.key, "Your operator key file (keys/operator.key)")
        ->required();
    cmd->add_option("--out", o->out, "Endorsement file to write");
    commands.add(cmd, [o] {
        if (o->out) o->endorse.out_file = *o->out;
        return app::run_endorse(o->endorse, now(), std::cout, std::cerr);
    });
}

void add_enroll(CLI::App& app, Commands& commands) {
    struct Options {
        MeshCommand mesh;
        std::string endorsements;
        app::EnrollOptions enroll;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "enroll", "Build and publish this operator's certificate from endorsements");
    add_home_option(cmd, o->mesh.home);
    add_genesis_option(cmd, o->mesh.genesis);
    add_bootstrap_option(cmd, o->mesh.bootstrap,
                         "Peer to publish through (default: the home's saved peers)");
    cmd->add_option("--endorsements", o->endorsements,
                    "Endorsement files, comma-separated (not needed by genesis operators)");
    cmd->add_option("--max-agents", o->enroll.max_agents, "Agents this operator may run")
        ->capture_default_str();
    cmd->add_option("--agent-index", o->enroll.agent_index, "Slot of this node's agent")
        ->capture_default_str();
    cmd->add_option("--valid-days", o->enroll.valid_days, "Certificate lifetime in days")
        ->capture_default_str();
    commands.add(cmd, [o] {
        auto home = home_or_fail(o->mesh.home);
        if (!home) return 1;
        o->enroll.home = *home;
        o->enroll.endorsements = split(o->endorsements);
        if (auto code = o->mesh.prepare(*home)) return *code;
        return app::run_enroll(o->enroll, *o->mesh.state, o->mesh.mesh.get(), now(), std::cout,
                               std::cerr);
    });
}

// `revoke publish`, `quarantine publish`: combine the signature files and publish the statement
// through the mesh, as one of its signers.
using ThresholdPublish = int (*)(const app::ThresholdPublishOptions&, trust::TrustState&,
                                 app::MeshAccess*, std::int64_t, std::ostream&, std::ostream&);
void add_threshold_publish(CLI::App& parent, Commands& commands, const std::string& description,
                           ThresholdPublish run) {
    struct PublishOptions {
        MeshCommand mesh;
        std::string signatures;
        app::ThresholdPublishOptions publish;
    };
    auto p = std::make_shared<PublishOptions>();
    auto* publish = parent.add_subcommand("publish", description);
    publish->add_option("--signatures", p->signatures, "Signature files, comma-separated")
        ->required();
    publish->add_option("--key", p->publish.key, "Your operator key file (a signer's)")->required();
    add_home_option(publish, p->mesh.home);
    add_genesis_option(publish, p->mesh.genesis);
    add_bootstrap_option(publish, p->mesh.bootstrap,
                         "Peer to publish through (default: the home's saved peers)");
    commands.add(publish, [p, run] {
        p->publish.signatures = split(p->signatures);
        auto home = app::resolve_home(p->mesh.home);
        std::optional<std::filesystem::path> home_dir;
        if (home) home_dir = *home;
        if (auto code = p->mesh.prepare(home_dir)) return *code;
        return run(p->publish, *p->mesh.state, p->mesh.mesh.get(), now(), std::cout, std::cerr);
    });
}

void add_revoke(CLI::App& app, Commands& commands) {
    auto* revoke =
        app.add_subcommand("revoke", "Revoke an operator (needs several operators' signatures)");
    revoke->require_subcommand(1);

    struct SignOptions {
        app::RevokeSignOptions sign;
        std::optional<std::string> genesis, out, by_key, by_id, join;
    };
    auto s = std::make_shared<SignOptions>();
    auto* sign = revoke->add_subcommand(
        "sign", "Start the revocation of an operator, or --join one another operator started");
    auto* by_key = sign->add_option("--operator", s->by_key,
                                    "Public key of the operator to revoke (64 hex digits)");
    auto* by_id = sign->add_option("--operator-id", s->by_id, "Or its operator id (64 hex)")
                      ->excludes(by_key);
    auto* reason = sign->add_option("--reason", s->sign.reason, "Why (kept with the revocation)");
    sign->add_option("--join", s->join,
                     "Signature file of the operator who started it: sign the same revocation")
        ->excludes(by_key)
        ->excludes(by_id)
        ->excludes(reason);
    sign->add_option("--key", s->sign.key, "Your operator key file")->required();
    sign->add_option("--out", s->out, "Signature file to write");
    add_genesis_option(sign, s->genesis);
    commands.add(sign, [s] {
        if (s->join) {
            s->sign.join = *s->join;
        } else if (!s->by_key && !s->by_id) {
            return usage_error(
                "revoke sign",
                "revoke sign needs --operator PUBLIC_KEY or --operator-id ID (and --reason), "
                "or --join FILE");
        }
        s->sign.by_id = s->by_id.has_value();
        s->sign.operator_ref = s->by_id.value_or(s->by_key.value_or(""));
        if (s->out) s->sign.out_file = *s->out;
        auto genesis = app::load_genesis(as_path(s->genesis));
        if (!genesis) return fail(genesis.error().message());
        return app::run_revoke_sign(s->sign, *genesis, now(), std::cout, std::cerr);
    });

    add_threshold_publish(*revoke, commands, "Combine signatures and publish the revocation",
                          app::run_revoke_publish);
}

void add_quarantine_signer(CLI::App& quarantine, Commands& commands,
                           trust::QuarantineAction action) {
    struct SignOptions {
        app::QuarantineSignOptions sign;
        std::optional<std::string> genesis, out, by_key, by_id, join;
    };
    auto s = std::make_shared<SignOptions>();
    s->sign.action = action;
    const bool hold = action == trust::QuarantineAction::hold;
    auto* sign = quarantine.add_subcommand(
        hold ? "sign" : "lift",
        hold ? "Start the quarantine of an operator, or --join one another operator started"
             : "Start lifting an operator's quarantine early, or --join a lift another started");
    auto* by_key =
        sign->add_option("--operator", s->by_key, "Public key of the operator (64 hex digits)");
    auto* by_id = sign->add_option("--operator-id", s->by_id, "Or its operator id (64 hex)")
                      ->excludes(by_key);
    auto* reason = sign->add_option("--reason", s->sign.reason, "Why (kept with the order)");
    auto* join = sign->add_option("--join", s->join,
                                  "Signature file of the operator who started it: sign the same")
                     ->excludes(by_key)
                     ->excludes(by_id)
                     ->excludes(reason);
    if (hold) {
        sign->add_option("--report", s->sign.report,
                         "Id of the anomaly report it rests on (GET /local/anomalies)")
            ->excludes(join);
        sign->add_option("--days", s->sign.days, "How long the hold lasts (at most 30)")
            ->capture_default_str()
            ->excludes(join);
    }
    sign->add_option("--key", s->sign.key, "Your operator key file")->required();
    sign->add_option("--out", s->out, "Signature file to write");
    add_genesis_option(sign, s->genesis);
    commands.add(sign, [s, hold] {
        if (s->join) {
            s->sign.join = *s->join;
        } else if ((!s->by_key && !s->by_id) || s->sign.reason.empty()) {
            return usage_error(
                std::string("quarantine ") + (hold ? "sign" : "lift"),
                std::string("quarantine ") + (hold ? "sign" : "lift") +
                    " needs --operator PUBLIC_KEY or --operator-id ID and --reason, or "
                    "--join FILE");
        }
        s->sign.by_id = s->by_id.has_value();
        s->sign.operator_ref = s->by_id.value_or(s->by_key.value_or(""));
        if (s->out) s->sign.out_file = *s->out;
        auto genesis = app::load_genesis(as_path(s->genesis));
        if (!genesis) return fail(genesis.error().message());
        return app::run_quarantine_sign(s->sign, *genesis, now(), std::cout, std::cerr);
    });
}

void add_quarantine(CLI::App& app, Commands& commands) {
    auto* quarantine = app.add_subcommand(
        "quarantine",
        "Hold an operator's writes and votes for a while (needs several operators' signatures)");
    quarantine->require_subcommand(1);
    add_quarantine_signer(*quarantine, commands, trust::QuarantineAction::hold);
    add_quarantine_signer(*quarantine, commands, trust::QuarantineAction::lift);

    add_threshold_publish(*quarantine, commands,
                          "Combine signatures and publish the quarantine (or its lift)",
                          app::run_quarantine_publish);
}

}  // namespace

void add_trust_commands(CLI::App& app, Commands& commands) {
    add_setup(app, commands);
    add_endorse(app, commands);
    add_enroll(app, commands);
    add_revoke(app, commands);
    add_quarantine(app, commands);
}

}  // namespace nocturne::cli
