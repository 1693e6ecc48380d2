#pragma once

// peers, publish, query, delete, vote: the home's running node through its local API, for people
// (key=value lines) and scripts (--json: the API's answer as it is). Exit codes: 0 done, 1 the
// node refused (its code and message on stderr), 3 no node runs with this home.

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace nocturne::app {

struct ApiCall {
    std::filesystem::path home;
    bool json = false;
};

int run_peers(const ApiCall& call, std::ostream& out, std::ostream& err);

struct PublishOptions {
    std::string domain;
    std::optional<std::string> id;
    std::string title;
    std::string content;
    std::vector<std::string> tags;
    std::optional<double> confidence;
};
int run_publish(const ApiCall& call, const PublishOptions& opts, std::ostream& out,
                std::ostream& err);

struct QueryOptions {
    std::string domain;
    std::string q;
    std::optional<double> min_confidence;
    std::optional<int> limit;
    std::string cursor;  // next_cursor of the previous page
};
int run_query(const ApiCall& call, const QueryOptions& opts, std::ostream& out, std::ostream& err);

int run_delete(const ApiCall& call, const std::string& id, const std::string& domain,
               std::ostream& out, std::ostream& err);

int run_vote(const ApiCall& call, const std::string& id, const std::string& domain, int choice,
             const std::string& reason, std::ostream& out, std::ostream& err);

}  // namespace nocturne::app
