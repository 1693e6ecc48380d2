// docs/api.md is checked against the real daemon: every example request in it (a ```http block)
// is sent, in order, to a fresh enrolled node, and the answer must have the documented status and
// the documented JSON shape (the same keys with the same types; values such as ids and times
// naturally differ). A documented field the daemon does not send, or a changed status, fails.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <sstream>

#include "support/agent_cli.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Example {
    std::size_t line = 0;  // in docs/api.md, for messages
    std::string method;
    std::string target;
    HeaderList headers;  // beyond Host and Authorization, which the test supplies
    std::string body;
    bool authorized = true;  // "Authorization: none" in the example drops the token
    int status = 0;
    json response;
};

// ```http blocks: "METHOD TARGET", header lines, a blank line, the body. The next ```json block
// whose info string is "json <status>" is the documented answer.
std::vector<Example> read_examples(const std::string& markdown) {
    std::vector<Example> out;
    std::istringstream in(markdown);
    std::string line;
    std::size_t n = 0;
    std::optional<Example> pending;
    while (std::getline(in, line)) {
        ++n;
        if (line == "```http") {
            Example e;
            e.line = n;
            std::getline(in, line), ++n;
            std::istringstream first(line);
            first >> e.method >> e.target;
            bool in_body = false;
            while (std::getline(in, line) && line != "```") {
                ++n;
                if (in_body) {
                    e.body += line + "\n";
                } else if (line.empty()) {
                    in_body = true;
                } else if (line == "Authorization: none") {
                    e.authorized = false;
                } else if (const auto colon = line.find(": "); colon != std::string::npos) {
                    e.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
                }
            }
            ++n;
            pending = std::move(e);
        } else if (line.rfind("```json ", 0) == 0 && pending) {
            pending->status = std::stoi(line.substr(8));
            std::string text;
            while (std::getline(in, line) && line != "```") ++n, text += line + "\n";
            ++n;
            pending->response = json::parse(text, nullptr, false);
            out.push_back(std::move(*pending));
            pending.reset();
        }
    }
    return out;
}

// Where the documented and the actual JSON differ in shape, as a path; empty when they agree.
std::string shape_mismatch(const json& doc, const json& actual, const std::string& path = "$") {
    if (doc.type() != actual.type() &&
        !(doc.is_number() && actual.is_number())) {  // 1 and 1.5 are both "a number"
        return path + ": documented " + doc.type_name() + ", got " + actual.type_name() + " (" +
               actual.dump().substr(0, 80) + ")";
    }
    if (doc.is_object()) {
        for (const auto& [key, value] : doc.items()) {
            if (!actual.contains(key)) return path + "." + key + ": documented, not sent";
            if (auto m = shape_mismatch(value, actual[key], path + "." + key); !m.empty()) {
                return m;
            }
        }
        for (const auto& [key, value] : actual.items()) {
            if (!doc.contains(key)) return path + "." + key + ": sent, not documented";
        }
    } else if (doc.is_array() && !doc.empty() && !actual.empty()) {
        return shape_mismatch(doc[0], actual[0], path + "[0]");
    }
    return {};
}

TEST(ApiDocs, EveryExampleMatchesTheRealDaemon) {
    const auto markdown =
        read_text_file(std::filesystem::path(NOCTURNE_SOURCE_DIR) / "docs" / "api.md");
    const auto examples = read_examples(markdown);
    ASSERT_GE(examples.size(), 5u) << "docs/api.md lost its examples";

    TempDir home, files;
    const auto genesis = enroll_single_operator(home.path(), files.path(), "docs-net");
    Process agent(agent_binary(),
                  {"start", "--foreground", "--home", home.path().string(), "--port", "0",
                   "--api-port", "0", "--genesis", genesis.string()});
    const auto ready = agent.read_line(20s);
    ASSERT_TRUE(ready.has_value()) << agent.drain_stderr();
    const auto at = ready->find(" api=http://127.0.0.1:");
    ASSERT_NE(at, std::string::npos) << *ready;
    const auto port = static_cast<std::uint16_t>(std::stoi(ready->substr(at + 22)));
    auto token = read_text_file(home / "api.token");
    token.erase(token.find_last_not_of('\n') + 1);

    for (const auto& e : examples) {
        SCOPED_TRACE("docs/api.md line " + std::to_string(e.line) + ": " + e.method + " " +
                     e.target);
        ASSERT_FALSE(e.response.is_discarded()) << "the documented response is not JSON";
        HeaderList headers = {{"Host", "127.0.0.1:" + std::to_string(port)}};
        if (e.authorized) headers.emplace_back("Authorization", "Bearer " + token);
        headers.insert(headers.end(), e.headers.begin(), e.headers.end());
        HttpClient client(port);
        const auto r = client.request(e.method, e.target, headers, e.body);
        ASSERT_TRUE(r.has_value()) << "no answer";
        EXPECT_EQ(r->status, e.status) << r->body;
        const auto actual = json::parse(r->body, nullptr, false);
        ASSERT_FALSE(actual.is_discarded()) << r->body;
        EXPECT_EQ(shape_mismatch(e.response, actual), "") << r->body;
        if (e.response.contains("error")) {  // error codes are part of the contract
            EXPECT_EQ(actual["error"]["code"], e.response["error"]["code"]);
        }
    }
    agent.signal(SIGTERM);
    EXPECT_EQ(agent.wait(5s), 0);
}

}  // namespace
}  // namespace nocturne::test
