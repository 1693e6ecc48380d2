// peers, publish, query, delete, vote: the home's running node, through its local API.

#include <nocturne/app/api_commands.hpp>
#include <nocturne/core/file_io.hpp>

#include <iostream>
#include <memory>

#include "cli.hpp"

namespace nocturne::cli {
namespace {

struct Common {
    std::optional<std::string> home;
    bool json = false;
};

void add_common(CLI::App* cmd, Common& c) {
    add_home_option(cmd, c.home);
    cmd->add_flag("--json", c.json, "Print the node's answer as JSON (one line), for scripts");
}

// The call, or nullopt after the error when the home cannot be determined.
std::optional<app::ApiCall> resolve(const Common& c) {
    auto home = home_or_fail(c.home);
    if (!home) return std::nullopt;
    return app::ApiCall{*home, c.json};
}

}  // namespace

void add_api_commands(CLI::App& app, Commands& commands) {
    {
        auto o = std::make_shared<Common>();
        auto* cmd =
            app.add_subcommand("peers", "List the running node's peers (its routing table)");
        add_common(cmd, *o);
        commands.add(cmd, [o] {
            auto c = resolve(*o);
            return c ? app::run_peers(*c, std::cout, std::cerr) : 1;
        });
    }
    {
        struct Options {
            Common common;
            app::PublishOptions publish;
            std::optional<std::string> content, content_file;
        };
        auto o = std::make_shared<Options>();
        auto* cmd =
            app.add_subcommand("publish", "Publish a knowledge entry through the running node");
        add_common(cmd, o->common);
        cmd->add_option("--domain", o->publish.domain, "Its domain, e.g. go/concurrency")
            ->required();
        cmd->add_option("--title", o->publish.title, "Its title")->required();
        auto* content = cmd->add_option("--content", o->content, "Its text");
        cmd->add_option("--content-file", o->content_file, "Or a file with its text")
            ->excludes(content)
            ->check(CLI::ExistingFile);
        cmd->add_option("--id", o->publish.id,
                        "Its id (default: a random one; an id again updates)");
        cmd->add_option("--tags", o->publish.tags, "Tags, comma-separated")->delimiter(',');
        cmd->add_option("--confidence", o->publish.confidence, "0-1 (default 0.5)")
            ->check(CLI::Range(0.0, 1.0));
        commands.add(cmd, [o] {
            if (!o->content && !o->content_file) {
                return usage_error("publish",
                                   "publish needs --content TEXT or --content-file FILE");
            }
            if (o->content_file) {
                auto text = read_file(*o->content_file, 64 * 1024);
                if (!text)
                    return fail("cannot read " + *o->content_file + ": " + text.error().message());
                o->publish.content = *text;
            } else {
                o->publish.content = *o->content;
            }
            auto c = resolve(o->common);
            return c ? app::run_publish(*c, o->publish, std::cout, std::cerr) : 1;
        });
    }
    {
        struct Options {
            Common common;
            app::QueryOptions query;
        };
        auto o = std::make_shared<Options>();
        auto* cmd =
            app.add_subcommand("query", "Query a domain's entries through the running node");
        add_common(cmd, o->common);
        cmd->add_option("--domain", o->query.domain, "The domain")->required();
        cmd->add_option("--q", o->query.q, "Words every match begins a word with");
        cmd->add_option("--min-confidence", o->query.min_confidence, "0-1")
            ->check(CLI::Range(0.0, 1.0));
        cmd->add_option("--limit", o->query.limit, "Entries at most (1-100)")
            ->check(CLI::Range(1, 100));
        cmd->add_option("--cursor", o->query.cursor, "The next page: next_cursor of the last");
        commands.add(cmd, [o] {
            auto c = resolve(o->common);
            return c ? app::run_query(*c, o->query, std::cout, std::cerr) : 1;
        });
    }
    {
        struct Options {
            Common common;
            std::string id, domain;
        };
        auto o = std::make_shared<Options>();
        auto* cmd = app.add_subcommand("delete", "Delete an entry this node published");
        add_common(cmd, o->common);
        cmd->add_option("--id", o->id, "The entry's id")->required();
        cmd->add_option("--domain", o->domain, "Its domain (needed if the id is in several)");
        commands.add(cmd, [o] {
            auto c = resolve(o->common);
            return c ? app::run_delete(*c, o->id, o->domain, std::cout, std::cerr) : 1;
        });
    }
    {
        struct Options {
            Common common;
            std::string id, domain, reason;
            bool up = false, down = false;
        };
        auto o = std::make_shared<Options>();
        auto* cmd = app.add_subcommand("vote", "Vote an entry up or down (commit-reveal)");
        add_common(cmd, o->common);
        cmd->add_option("--id", o->id, "The entry's id")->required();
        cmd->add_option("--domain", o->domain, "Its domain")->required();
        auto* up = cmd->add_flag("--up", o->up, "It is right");
        cmd->add_flag("--down", o->down, "It is wrong")->excludes(up);
        cmd->add_option("--reason", o->reason, "Why (kept with the vote)");
        commands.add(cmd, [o] {
            if (!o->up && !o->down) return usage_error("vote", "vote needs --up or --down");
            auto c = resolve(o->common);
            return c ? app::run_vote(*c, o->id, o->domain, o->up ? 1 : -1, o->reason, std::cout,
                                     std::cerr)
                     : 1;
        });
    }
}

}  // namespace nocturne::cli
