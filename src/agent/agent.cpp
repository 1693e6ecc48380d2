#include <nocturne/agent/agent.hpp>

#include <algorithm>
#include <utility>

namespace nocturne::agent {

Agent::Agent(const crypto::KeyPair& keys, std::string address, const Clock& clock,
             dht::Transport& transport, AgentStores stores, trust::Genesis genesis,
             AgentConfig config, AgentHooks hooks)
    : keys_(crypto::KeyPair::from_seed(keys.seed())),
      clock_(clock),
      stores_(stores),
      config_([&] {
          // The mesh's k is the genesis' when it sets one.
          if (genesis.replication > 0) {
              config.node.k = static_cast<std::size_t>(genesis.replication);
          }
          return std::move(config);
      }()),
      hooks_(std::move(hooks)),
      trust_(std::move(genesis), stores_.trust, clock.unix_seconds()),
      policy_(trust_, clock, keys_.node_id()),
      node_(keys_.node_id(), std::move(address), clock, transport, stores_.records, config_.node),
      knowledge_(node_, keys_, clock, &trust_, "", stores_.published, config_.knowledge),
      votes_(node_, keys_, clock, trust_, stores_.published,
             vote::Windows{trust_.genesis().vote_commit_seconds,
                           trust_.genesis().vote_reveal_seconds}),
      compute_(node_, keys_, clock, trust_, stores_.published, votes_,
               [&] {
                   auto options = config_.compute;
                   options.rules.claim_seconds = trust_.genesis().claim_seconds;
                   return options;
               }()),
      awareness_(node_, keys_, clock, trust_, knowledge_, votes_, compute_),
      anomaly_(node_, keys_, clock, trust_, config_.anomaly),
      gossip_(node_, trust_, clock, [&] {
          auto options = config_.gossip;
          if (options.seed == 0 && config_.node.seed != 0) {
              options.seed = config_.node.seed ^ 0x9e3779b97f4a7c15ULL;
          }
          return options;
      }()) {
    // Whatever the trust state learns, by any path, is the gossip layer's to spread.
    trust_.on_learned([this](const wire::Record& r) { gossip_.offer(r); });
    votes_.on_equivocation(
        [this](const vote::Equivocation& e) { anomaly_.equivocation(e.held, e.offered); });
    node_.set_policy(&policy_);
    node_.set_signer(&keys_);
    const auto now = clock_.now();
    next_credentials_ = now;
    next_snapshot_ = now + config_.snapshot_period;
    poll_credentials();
}

Agent::~Agent() {
    trust_.on_learned(nullptr);
    votes_.on_equivocation(nullptr);
}

const std::string& Agent::network() const {
    return trust_.genesis().network;
}

void Agent::on_message(dht::InboundMessage msg) {
    node_.on_message(std::move(msg));
}

void Agent::on_undeliverable(const std::string& message_id) {
    node_.on_undeliverable(message_id);
}

Clock::time_point Agent::next_wakeup() const {
    auto t = std::min({node_.next_wakeup(), next_bootstrap_, votes_.next_wakeup(),
                       compute_.next_wakeup(), gossip_.next_wakeup(), anomaly_.next_wakeup()});
    if (hooks_.poll_credentials) t = std::min(t, next_credentials_);
    if (hooks_.save_peers) t = std::min(t, next_snapshot_);
    return t;
}

void Agent::tick() {
    node_.tick();
    votes_.tick();
    compute_.tick();
    anomaly_.tick();
    gossip_.tick();
    const auto now = clock_.now();
    if (now >= next_credentials_) {
        next_credentials_ = now + config_.credentials_period;
        poll_credentials();
    }
    if (now >= next_snapshot_) {
        next_snapshot_ = now + config_.snapshot_period;
        save_peers();
    }
    // A table that emptied (every peer gone) is refilled from the seeds, with the same backoff.
    if (node_.table().size() == 0 && !seeds_.empty() && !bootstrapping_ &&
        next_bootstrap_ == Clock::time_point::max()) {
        next_bootstrap_ = now + bootstrap_backoff_;
    }
    if (now >= next_bootstrap_) retry_bootstrap();
}

void Agent::retry_bootstrap() {
    next_bootstrap_ = Clock::time_point::max();
    if (bootstrapping_ || seeds_.empty()) return;
    bootstrapping_ = true;
    node_.bootstrap(seeds_, [this](std::size_t peers) {
        bootstrapping_ = false;
        if (peers == 0) {
            bootstrap_backoff_ = std::min(bootstrap_backoff_ * 2, config_.bootstrap_retry_max);
            next_bootstrap_ = clock_.now() + bootstrap_backoff_;
            return;
        }
        bootstrap_backoff_ = config_.bootstrap_retry_min;
        if (!bootstrapped_) {
            bootstrapped_ = true;
            on_bootstrapped();
        }
    });
}

void Agent::bootstrap(const std::vector<wire::Contact>& seeds,
                      std::function<void(std::size_t)> done) {
    seeds_ = seeds;
    bootstrap_backoff_ = config_.bootstrap_retry_min;
    bootstrapping_ = true;
    node_.bootstrap(seeds, [this, done = std::move(done)](std::size_t peers) {
        bootstrapping_ = false;
        // Nobody answered (busy seeds, an attack, a network not up yet): try again later rather
        // than stay alone for good. A node with no seeds starts a new mesh and waits to be found.
        if (peers == 0 && !seeds_.empty()) next_bootstrap_ = clock_.now() + bootstrap_backoff_;
        if (!bootstrapped_ && (peers > 0 || seeds_.empty())) {
            bootstrapped_ = true;
            on_bootstrapped();
        }
        if (done) done(peers);
    });
}

void Agent::on_bootstrapped() {
    save_peers();
    // Our certificates go out once we know where their keys live, and our entries from the last
    // run are republished from then on.
    publish_own_certificates();
    (void)knowledge_.resume_publishing();
    votes_.resume();
    // What the mesh learned while this node was away (or before it existed): revocations,
    // quarantines, certificates.
    gossip_.catch_up();
}

void Agent::stop() {
    save_peers();
}

void Agent::save_peers() {
    if (!hooks_.save_peers) return;
    std::vector<wire::Contact> peers;
    for (const auto& p : node_.table().all_peers()) peers.push_back({p.id, p.address});
    hooks_.save_peers(peers);
}

void Agent::poll_credentials() {
    if (!hooks_.poll_credentials) return;
    auto changed = hooks_.poll_credentials();
    if (!changed) return;
    if (!*changed) {
        credentials_problem_ = changed->error().message();
        return;
    }
    credentials_problem_.clear();
    use_credentials(**changed);
}

void Agent::use_credentials(const std::vector<wire::Record>& records) {
    const auto now = clock_.unix_seconds();
    trust_.learn_all(records, now);
    // Ours are the records our operator signed: its certificate and our agent certificate. The
    // endorsers' certificates are theirs to publish.
    own_certificates_.clear();
    const auto s = standing();
    if (s) {
        for (const auto& r : records) {
            if (trust::operator_id_of(r.author) == s->operator_id &&
                (r.kind == wire::RecordKind::cert || r.kind == wire::RecordKind::agent_cert)) {
                own_certificates_.push_back(r);
            }
        }
    }
    const std::string key = s ? s->operator_id + "/" + std::to_string(s->agent_index) : "";
    knowledge_.set_operator_id(s ? s->operator_id : "");
    votes_.set_operator_id(s ? s->operator_id : "");
    compute_.set_operator_id(s ? s->operator_id : "");
    awareness_.set_operator_id(s ? s->operator_id : "");
    session_credentials_ = std::make_shared<const std::vector<wire::Record>>(
        s ? trust_.agent_credentials(node_.id(), wire::default_limits.max_credentials)
          : std::vector<wire::Record>{});
    if (key != standing_key_) {
        standing_key_ = key;
        if (hooks_.standing_changed) hooks_.standing_changed();
    }
    // Before bootstrap the routing table is empty: on_bootstrapped() publishes them.
    if (bootstrapped_) publish_own_certificates();
}

void Agent::publish_own_certificates() {
    // put() republishes them hourly from then on.
    for (const auto& r : own_certificates_) node_.put(r, nullptr);
}

result<Agent::Standing> Agent::standing() const {
    return trust_.agent_standing(node_.id(), clock_.unix_seconds());
}

std::string Agent::describe_standing() const {
    if (auto s = standing()) {
        return "enrolled operator_id=" + s->operator_id +
               " agent_index=" + std::to_string(s->agent_index) +
               " depth=" + std::to_string(s->operator_depth);
    }
    if (!credentials_problem_.empty()) return "not enrolled: " + credentials_problem_;
    const auto e = standing().error();
    return std::string("not enrolled: ") + e.name() + " (" + e.message() + ")";
}

}  // namespace nocturne::agent
