#include <nocturne/app/api_commands.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/app/local_client.hpp>
#include <nocturne/app/runtime_info.hpp>
#include <nocturne/core/file_io.hpp>

#include <nlohmann/json.hpp>

#include <cctype>

namespace nocturne::app {
namespace {

using nlohmann::json;

constexpr int not_running = 3;

struct Answer {
    int code = 0;  // the command's exit code when it is not 0
    json body;
};

// Percent-encodes a query parameter's value (RFC 3986 unreserved characters pass).
std::string encode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : value) {
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// Text from the mesh on a terminal: control characters shown as '?'.
std::string printable(std::string text) {
    for (auto& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return text;
}

Answer call(const ApiCall& c, const std::string& method, const std::string& target,
            const std::string& body, std::ostream& err) {
    auto info = load_runtime_info(c.home);
    if (!home_in_use(c.home) || !info || !is_running(info->pid)) {
        err << "nocturne-agent: no node runs with home " << c.home.string()
            << " (start it with: nocturne-agent start)\n";
        return {not_running, {}};
    }
    auto token = read_private_file(HomeLayout{c.home}.api_token(), 128);
    if (!token) {
        err << "nocturne-agent: cannot read the API token "
            << HomeLayout{c.home}.api_token().string() << ": " << token.error().message() << "\n";
        return {1, {}};
    }
    const auto end = token->find_first_of("\r\n");
    auto res = local_request(info->api_port, method, target, token->substr(0, end), body,
                             std::chrono::seconds(35));
    if (!res) {
        err << "nocturne-agent: the node's API does not answer: " << res.error().message() << "\n";
        return {1, {}};
    }
    auto parsed = json::parse(res->body, nullptr, false);
    if (parsed.is_discarded()) {
        err << "nocturne-agent: unreadable answer (HTTP " << res->status << ")\n";
        return {1, {}};
    }
    if (res->status >= 300) {
        std::string message = "the node refused", code = "HTTP " + std::to_string(res->status);
        if (const auto e = parsed.find("error"); e != parsed.end() && e->is_object()) {
            if (const auto m = e->find("message"); m != e->end() && m->is_string()) {
                message = m->get<std::string>();
            }
            if (const auto k = e->find("code"); k != e->end() && k->is_string()) {
                code = k->get<std::string>();
            }
        }
        err << "nocturne-agent: " << printable(message) << " (" << printable(code) << ")\n";
        return {1, std::move(parsed)};
    }
    return {0, std::move(parsed)};
}

// --json: the answer as the API gave it, one line.
int print_json(const Answer& a, std::ostream& out) {
    out << a.body.dump() << "\n";
    return 0;
}

}  // namespace

int run_peers(const ApiCall& c, std::ostream& out, std::ostream& err) {
    auto a = call(c, "GET", "/local/peers", "", err);
    if (a.code != 0) return a.code;
    if (c.json) return print_json(a, out);
    out << "count=" << a.body.value("count", 0) << "\n";
    for (const auto& p : a.body.value("peers", json::array())) {
        out << "peer=" << printable(p.value("node_id", "")) << " "
            << printable(p.value("address", "")) << "\n";
    }
    return 0;
}

int run_publish(const ApiCall& c, const PublishOptions& o, std::ostream& out, std::ostream& err) {
    json body = {{"domain", o.domain}, {"title", o.title}, {"content", o.content}};
    if (o.id) body["id"] = *o.id;
    if (!o.tags.empty()) body["tags"] = o.tags;
    if (o.confidence) body["confidence"] = *o.confidence;
    auto a = call(c, "POST", "/local/knowledge", body.dump(), err);
    if (a.code != 0) return a.code;
    if (c.json) return print_json(a, out);
    out << "id=" << a.body.value("id", "") << "\n"
        << "domain=" << a.body.value("domain", "") << "\n"
        << "seq=" << a.body.value("seq", 0) << "\n"
        << "stored_on=" << a.body.value("stored_on", 0) << "\n"
        << "expires=" << a.body.value("expires", 0) << "\n";
    return 0;
}

int run_query(const ApiCall& c, const QueryOptions& o, std::ostream& out, std::ostream& err) {
    std::string target = "/local/knowledge?domain=" + encode(o.domain);
    if (!o.q.empty()) target += "&q=" + encode(o.q);
    if (o.min_confidence) target += "&min_confidence=" + std::to_string(*o.min_confidence);
    if (o.limit) target += "&limit=" + std::to_string(*o.limit);
    if (!o.cursor.empty()) target += "&cursor=" + encode(o.cursor);
    auto a = call(c, "GET", target, "", err);
    if (a.code != 0) return a.code;
    if (c.json) return print_json(a, out);
    const auto entries = a.body.value("entries", json::array());
    out << "count=" << entries.size() << "\n";
    for (const auto& e : entries) {
        // The title sits inside the untrusted envelope: "<<<...>>>\n{json}\n<<<END...>>>".
        std::string title;
        const auto text = e.value("untrusted", "");
        const auto from = text.find('\n'), to = text.rfind('\n');
        if (from != std::string::npos && to > from) {
            auto inner = json::parse(text.substr(from + 1, to - from - 1), nullptr, false);
            if (inner.is_object()) title = inner.value("title", "");
        }
        const auto prov = e.value("provenance", json::object());
        out << "entry=" << printable(e.value("domain", "")) << " " << printable(e.value("id", ""))
            << " confidence=" << prov.value("confidence", 0.0)
            << " trust=" << printable(prov.value("trust", "")) << " title=" << printable(title)
            << "\n";
    }
    if (const auto next = a.body.value("next_cursor", ""); !next.empty()) {
        out << "next_cursor=" << next << "\n";
    }
    return 0;
}

int run_delete(const ApiCall& c, const std::string& id, const std::string& domain,
               std::ostream& out, std::ostream& err) {
    std::string target = "/local/knowledge/" + encode(id);
    if (!domain.empty()) target += "?domain=" + encode(domain);
    auto a = call(c, "DELETE", target, "", err);
    if (a.code != 0) return a.code;
    if (c.json) return print_json(a, out);
    out << "id=" << a.body.value("id", "") << "\n"
        << "domain=" << a.body.value("domain", "") << "\n"
        << "deleted=" << (a.body.value("deleted", false) ? "yes" : "no") << "\n";
    return 0;
}

int run_vote(const ApiCall& c, const std::string& id, const std::string& domain, int choice,
             const std::string& reason, std::ostream& out, std::ostream& err) {
    json body = {{"domain", domain}, {"vote", choice}};
    if (!reason.empty()) body["reason"] = reason;
    auto a = call(c, "POST", "/local/knowledge/" + encode(id) + "/vote", body.dump(), err);
    if (a.code != 0) return a.code;
    if (c.json) return print_json(a, out);
    out << "round=" << a.body.value("round", 0) << "\n"
        << "reveal_at=" << a.body.value("reveal_at", 0) << "\n"
        << "counted_by=" << a.body.value("counted_by", 0) << "\n"
        << "stored=" << a.body.value("stored", 0) << "\n";
    return 0;
}

}  // namespace nocturne::app
