#include <nocturne/app/node_trust.hpp>
#include <nocturne/app/trust_files.hpp>

namespace nocturne::app {

std::unique_ptr<NodeTrust> NodeTrust::open(const HomeLayout& home, trust::Genesis genesis,
                                           const NodeId& self, const Clock& clock,
                                           std::string& why) {
    auto db = store::SqliteStore::open(home.trust_db());
    if (!db) {
        why = "cannot open " + home.trust_db().string() + ": " + db.error().message();
        return nullptr;
    }
    std::unique_ptr<NodeTrust> t(new NodeTrust());
    t->credentials_file_ = home.credentials();
    t->self_ = self;
    t->clock_ = &clock;
    t->db_ = std::move(*db);
    t->state_ =
        std::make_unique<trust::TrustState>(std::move(genesis), *t->db_, clock.unix_seconds());
    t->policy_ = std::make_unique<trust::TrustPolicy>(*t->state_, clock, self);
    return t;
}

std::optional<std::vector<wire::Record>> NodeTrust::refresh_credentials() {
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(credentials_file_, ec);
    if (ec) {
        if (first_refresh_) credentials_problem_ = "not enrolled: no " + credentials_file_.string();
        first_refresh_ = false;
        return std::nullopt;
    }
    if (!first_refresh_ && credentials_mtime_ == mtime) return std::nullopt;
    first_refresh_ = false;
    credentials_mtime_ = mtime;
    auto records = load_records(credentials_file_);
    if (!records) {
        credentials_problem_ =
            "cannot use " + credentials_file_.string() + ": " + records.error().message();
        return std::nullopt;
    }
    credentials_problem_.clear();
    state_->learn_all(*records, clock_->unix_seconds());
    // Ours are the records our operator signed: its certificate and our agent certificate. The
    // endorsers' certificates in the file are theirs to publish.
    std::vector<wire::Record> own;
    const auto standing = state_->agent_standing(self_, clock_->unix_seconds());
    for (const auto& r : *records) {
        if (!standing) break;
        if (trust::operator_id_of(r.author) == standing->operator_id &&
            (r.kind == wire::RecordKind::cert || r.kind == wire::RecordKind::agent_cert)) {
            own.push_back(r);
        }
    }
    return own;
}

result<trust::TrustState::AgentStanding> NodeTrust::standing() const {
    return state_->agent_standing(self_, clock_->unix_seconds());
}

std::string NodeTrust::describe() const {
    if (auto s = standing()) {
        return "enrolled operator_id=" + s->operator_id +
               " agent_index=" + std::to_string(s->agent_index) +
               " depth=" + std::to_string(s->operator_depth);
    }
    if (!credentials_problem_.empty()) return credentials_problem_;
    return std::string("not enrolled: ") + error_name(standing().error()) + " (" +
           standing().error().message() + ")";
}

}  // namespace nocturne::app
