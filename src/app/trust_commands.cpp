#include <nocturne/app/home.hpp>
#include <nocturne/app/identity.hpp>
#include <nocturne/app/trust_commands.hpp>
#include <nocturne/app/trust_files.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/crypto/key_file.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/endorsement.hpp>
#include <nocturne/trust/revocation.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <set>

#include "command_support.hpp"

namespace nocturne::app {
namespace {

using namespace detail;

constexpr std::int64_t day = 24 * 3600;

// "what it is called here": genesis label, certificate label, or the id alone.
std::string operator_name(const trust::TrustState& state, const std::string& id) {
    for (const auto& op : state.genesis().operators) {
        if (trust::operator_id_of(op.public_key) == id) return short_id(id) + " (" + op.label + ")";
    }
    if (const auto* cert = state.validator().certificate(id)) {
        return short_id(id) + " (" + cert->label + ")";
    }
    return short_id(id);
}

// Highest seq this author has under key in the mesh (0 if none or no mesh): a re-enrollment must
// go above it, or the responsible nodes keep the old record (stale_seq).
std::uint64_t highest_seq(MeshAccess* mesh, const NodeId& key, const crypto::PublicKey& author,
                          const std::string& slot) {
    if (mesh == nullptr || mesh->peers() == 0) return 0;
    std::uint64_t seq = 0;
    for (const auto& r : mesh->get(key).records) {
        if (r.author == author && r.slot == slot) seq = std::max(seq, r.seq);
    }
    return seq;
}

std::string publish(MeshAccess* mesh, const wire::Record& record) {
    const auto res = mesh->put(record);
    if (res.stored > 0) return "stored on " + std::to_string(res.stored) + " nodes";
    if (res.first_refusal != errc::ok) {
        return std::string("refused (") + errc_name(res.first_refusal) + ")";
    }
    return "no node answered";
}

}  // namespace

int run_setup(const SetupOptions& opts, std::ostream& out, std::ostream& err) {
    if (!trust::is_valid_label(opts.label)) {
        return fail(err, "--label must be 1-64 printable ASCII characters");
    }
    if (auto ec = prepare_home(opts.home)) {
        return fail(err, "cannot use home " + opts.home.string() + ": " + describe(ec));
    }
    const HomeLayout layout{opts.home};
    bool fresh = false;
    auto op = crypto::load_key_file(layout.operator_key());
    if (!op && op.error() == errc::key_file_missing) {
        op = crypto::KeyPair::generate();
        if (auto ec = crypto::save_key_file(layout.operator_key(), *op)) {
            return fail(err, "cannot write operator key " + layout.operator_key().string() + ": " +
                                 describe(ec));
        }
        fresh = true;
    } else if (!op) {
        return fail(err, "cannot read operator key " + layout.operator_key().string() + ": " +
                             describe(op.error()));
    }
    auto existing_label = load_operator_label(layout.operator_profile());
    if (!fresh && existing_label && *existing_label != opts.label) {
        return fail(err, "this home is already set up for operator \"" + *existing_label +
                             "\"; use another --home for another operator");
    }
    if (!existing_label) {
        if (auto ec = save_operator_label(layout.operator_profile(), opts.label)) {
            return fail(err,
                        "cannot write " + layout.operator_profile().string() + ": " + describe(ec));
        }
    }
    bool node_created = false;
    auto node = load_or_create_node_key(layout.node_key(), node_created);
    if (!node) {
        return fail(err, "cannot read node key " + layout.node_key().string() + ": " +
                             describe(node.error()));
    }
    out << "operator_public_key=" << to_hex(op->public_key()) << "\n"
        << "operator_id=" << trust::operator_id_of(op->public_key()) << "\n"
        << "node_id=" << node->node_id().to_hex() << "\n"
        << "label=" << opts.label << "\n"
        << "operator_key_file=" << layout.operator_key().string() << "\n"
        << "status=" << (fresh ? "created" : "existing") << "\n";
    return 0;
}

int run_endorse(const EndorseOptions& opts, std::int64_t now, std::ostream& out,
                std::ostream& err) {
    auto subject = parse_public_key(opts.operator_key);
    if (!subject) {
        return fail(err, "--operator must be the operator's public key as 64 hex digits (" +
                             describe(subject.error()) + ")");
    }
    auto endorser = load_key(opts.key, err, "endorser key");
    if (!endorser) return 1;
    if (endorser->public_key() == *subject) {
        return fail(err, "an operator cannot endorse itself");
    }
    const auto e = trust::create_endorsement(*endorser, *subject, opts.timestamp.value_or(now));
    const auto file =
        opts.out_file.value_or("endorsement-" + short_id(to_hex(*subject)) + "-by-" +
                               short_id(trust::operator_id_of(endorser->public_key())) + ".sig");
    if (auto ec = write_new_file(file, trust::encode_endorsement_file(e), 0644)) {
        return fail(err, "cannot write " + file.string() + ": " + describe(ec) +
                             (ec == std::errc::file_exists ? "; choose another --out" : ""));
    }
    out << "endorsement_file=" << file.string() << "\n"
        << "endorser_id=" << trust::operator_id_of(endorser->public_key()) << "\n"
        << "operator_public_key=" << to_hex(*subject) << "\n";
    return 0;
}

int run_enroll(const EnrollOptions& opts, trust::TrustState& state, MeshAccess* mesh,
               std::int64_t now, std::ostream& out, std::ostream& err) {
    const HomeLayout layout{opts.home};
    auto op = crypto::load_key_file(layout.operator_key());
    if (!op) {
        if (op.error() == errc::key_file_missing) {
            return fail(err, "no operator key in " + opts.home.string() +
                                 ": run nocturne-agent setup --label NAME first");
        }
        return fail(err, "cannot read operator key " + layout.operator_key().string() + ": " +
                             describe(op.error()));
    }
    auto node = crypto::load_key_file(layout.node_key());
    if (!node) {
        return fail(err, "cannot read node key " + layout.node_key().string() + ": " +
                             describe(node.error()));
    }
    auto label = load_operator_label(layout.operator_profile());
    if (!label) {
        return fail(err, "cannot read " + layout.operator_profile().string() + ": " +
                             describe(label.error()) + "; run nocturne-agent setup again");
    }
    if (opts.valid_days < 1 || opts.valid_days > 400) {
        return fail(err, "--valid-days must be between 1 and 400");
    }
    const auto op_id = trust::operator_id_of(op->public_key());
    const bool genesis_operator = state.genesis().find(op->public_key()) != nullptr;
    const auto& genesis = state.genesis();

    std::vector<wire::Record> credentials;
    if (!genesis_operator) {
        trust::TrustCertificate cert;
        cert.network = genesis.network;
        cert.operator_id = op_id;
        cert.public_key = op->public_key();
        cert.label = *label;
        cert.max_agents = opts.max_agents;
        cert.created_at = now;
        cert.expires_at = now + opts.valid_days * day;
        if (opts.max_agents < 1 || opts.max_agents > wire::max_agent_index + 1) {
            return fail(err, "--max-agents must be between 1 and 64");
        }
        std::vector<std::string> names;
        for (const auto& path : opts.endorsements) {
            auto text = read_file(path, max_trust_file_bytes);
            if (!text) {
                return fail(err, "cannot read endorsement " + path.string() + ": " +
                                     describe(text.error()));
            }
            auto e = trust::parse_endorsement_file(*text);
            if (!e) {
                return fail(err,
                            path.string() + " is not a valid endorsement: " + describe(e.error()));
            }
            if (e->subject != op->public_key()) {
                return fail(err, path.string() + " endorses operator " +
                                     short_id(to_hex(e->subject)) + ", not this one (" +
                                     short_id(to_hex(op->public_key())) + ")");
            }
            cert.endorsements.push_back(*e);
            names.push_back(path.filename().string());
        }
        // Endorsers that are not genesis operators: their certificates come from the mesh.
        if (mesh != nullptr && mesh->peers() > 0) {
            for (const auto& e : cert.endorsements) {
                const auto id = trust::operator_id_of(e.endorser);
                if (!state.validator().is_trusted(id, now)) {
                    mesh->get(prefix_key(wire::key_prefix::cert, id));
                }
            }
        }
        const auto verdict = state.validator().evaluate(cert, now);
        if (verdict.error) {
            err << "nocturne-agent: enrollment incomplete: " << verdict.counted << " of "
                << genesis.min_endorsements << " required endorsements count ("
                << error_name(verdict.error) << ")\n";
            for (std::size_t i = 0; i < verdict.endorsements.size(); ++i) {
                const auto& v = verdict.endorsements[i];
                err << "  " << names[i] << ": endorser " << operator_name(state, v.endorser_id)
                    << ": "
                    << (v.error ? describe(v.error)
                                : "counts (depth " + std::to_string(v.endorser_depth) + ")")
                    << "\n";
            }
            if (mesh == nullptr || mesh->peers() == 0) {
                err << "  (endorsers that are not genesis operators are looked up on the mesh: "
                       "pass --bootstrap)\n";
            }
            return 1;
        }
        const auto seq =
            highest_seq(mesh, prefix_key(wire::key_prefix::cert, op_id), op->public_key(), "") + 1;
        auto record = trust::sign_certificate(cert, *op, seq);
        if (!record) return fail(err, "cannot sign the certificate: " + describe(record.error()));
        credentials.push_back(*record);
        out << "certificate=valid depth=" << verdict.depth << " endorsements=" << verdict.counted
            << "\n";
    } else {
        out << "certificate=genesis\n";
    }

    const auto agent_key = prefix_key(wire::key_prefix::agent, op_id);
    const auto agent_seq =
        highest_seq(mesh, agent_key, op->public_key(), std::to_string(opts.agent_index)) + 1;
    auto agent =
        trust::sign_agent_certificate(genesis.network, *op, *node, opts.agent_index, now,
                                      static_cast<std::int64_t>(opts.valid_days) * day, agent_seq);
    if (!agent) return fail(err, "cannot sign the agent certificate: " + describe(agent.error()));
    credentials.push_back(*agent);
    // Check the result as a peer will: from the records alone.
    if (state.learn_all(credentials, now) != credentials.size()) {
        const auto ec = state.learn(credentials.back(), now);
        return fail(err, "the agent certificate does not validate: " + describe(ec));
    }
    // The endorsers' chains ride along, so that peers that never met them can check ours.
    for (auto& r : state.agent_credentials(node->node_id(), wire::default_limits.max_credentials)) {
        if (std::none_of(credentials.begin(), credentials.end(),
                         [&](const wire::Record& c) { return c.sig == r.sig; })) {
            credentials.push_back(std::move(r));
        }
    }
    if (auto ec = save_records(layout.credentials(), credentials)) {
        return fail(err, "cannot write " + layout.credentials().string() + ": " + describe(ec));
    }
    out << "operator_id=" << op_id << "\n"
        << "agent_node_id=" << node->node_id().to_hex() << "\n"
        << "agent_index=" << opts.agent_index << "\n"
        << "credentials_file=" << layout.credentials().string() << "\n";
    if (mesh == nullptr || mesh->peers() == 0) {
        out << "published=no (no peers reachable; the node publishes its certificates when it "
               "starts)\n";
        return 0;
    }
    for (std::size_t i = 0; i < 2 && i < credentials.size(); ++i) {
        if (credentials[i].kind == wire::RecordKind::cert) {
            out << "published_certificate=" << publish(mesh, credentials[i]) << "\n";
        } else {
            out << "published_agent_certificate=" << publish(mesh, credentials[i]) << "\n";
        }
    }
    return 0;
}

int run_revoke_sign(const RevokeSignOptions& opts, const trust::Genesis& genesis, std::int64_t now,
                    std::ostream& out, std::ostream& err) {
    std::string target;
    std::string reason = opts.reason;
    std::int64_t timestamp = now;
    if (opts.join) {
        auto text = read_file(*opts.join, max_trust_file_bytes);
        if (!text) {
            return fail(err, "cannot read " + opts.join->string() + ": " + describe(text.error()));
        }
        auto first = trust::parse_revocation_share(*text);
        if (!first) {
            return fail(err, opts.join->string() + " is not a valid revocation signature: " +
                                 describe(first.error()));
        }
        if (first->network != genesis.network) {
            return fail(err, opts.join->string() + " revokes in network " + first->network +
                                 ", not " + genesis.network);
        }
        target = first->operator_id;
        reason = first->reason;
        timestamp = first->timestamp;
    } else {
        target = resolve_operator(opts.operator_ref, opts.by_id, err);
        if (target.empty()) return 1;
    }
    if (reason.empty() || reason.size() > trust::max_reason_bytes ||
        std::any_of(reason.begin(), reason.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        return fail(err, "--reason must be 1-512 characters without control characters");
    }
    auto signer = load_key(opts.key, err, "signer key");
    if (!signer) return 1;
    trust::RevocationShare share{genesis.network, target, reason, timestamp,
                                 trust::sign_revocation(*signer, target, timestamp, reason)};
    const auto file =
        opts.out_file.value_or("revocation-" + short_id(target) + "-by-" +
                               short_id(trust::operator_id_of(signer->public_key())) + ".sig");
    if (auto ec = write_new_file(file, trust::encode_revocation_share(share), 0644)) {
        return fail(err, "cannot write " + file.string() + ": " + describe(ec) +
                             (ec == std::errc::file_exists ? "; choose another --out" : ""));
    }
    out << "revocation_signature_file=" << file.string() << "\n"
        << "operator_id=" << target << "\n"
        << "timestamp=" << timestamp << "\n";
    return 0;
}

int run_revoke_publish(const ThresholdPublishOptions& opts, trust::TrustState& state,
                       MeshAccess* mesh, std::int64_t now, std::ostream& out, std::ostream& err) {
    auto shares = read_shares<trust::RevocationShare>(
        opts.signatures, trust::parse_revocation_share, "revocation", err);
    if (!shares) return 1;
    auto rev = trust::combine_revocation_shares(*shares);
    if (!rev) {
        return fail(err, rev.error() == errc::value_out_of_range
                             ? "the signature files disagree on operator, reason or time: the "
                               "other signers must join the first one's (revoke sign --join FILE)"
                             : "no revocation signatures given");
    }
    auto author = load_key(opts.key, err, "key");
    if (!author) return 1;
    if (std::none_of(rev->signatures.begin(), rev->signatures.end(),
                     [&](const auto& s) { return s.signer == author->public_key(); })) {
        return fail(err, "--key must be the key of one of the signers");
    }
    if (mesh == nullptr || mesh->peers() == 0) {
        return fail(err, "no peers reachable: pass --bootstrap ws://HOST:PORT");
    }
    fetch_signer_certificates(state, *mesh, rev->signatures, now);
    if (auto ec = state.validator().validate_revocation(*rev, now)) {
        // A genesis operator is removed only by a majority of the other genesis operators.
        const bool of_genesis = ec == errc::genesis_protected;
        const auto needed = of_genesis ? state.validator().genesis_signers_needed()
                                       : state.genesis().revocation_threshold;
        return fail(err, "revocation not valid: " + describe(ec) + "; it needs " +
                             std::to_string(needed) +
                             (of_genesis ? " signatures of genesis operators"
                                         : " signatures of trusted operators") +
                             " other than the revoked one");
    }
    auto record = trust::sign_revocation_record(*rev, *author, now);
    if (!record) return fail(err, "cannot sign the revocation: " + describe(record.error()));
    const auto stored = stored_or_fail(mesh->put(*record), "revocation", err);
    if (!stored) return 1;
    out << "revoked_operator_id=" << rev->operator_id << "\n"
        << "published=stored on " << *stored << " nodes\n";
    return 0;
}

}  // namespace nocturne::app
