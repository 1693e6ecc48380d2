#include "log_sinks.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <sys/stat.h>

namespace nocturne::cli {
namespace {

// JOURNAL_STREAM is "<device>:<inode>" of the stream systemd connected: it is ours only if our
// stderr is still that stream (not redirected by a wrapper or a child of the service).
bool stderr_is_journal() {
    const char* v = std::getenv("JOURNAL_STREAM");
    if (v == nullptr) return false;
    struct stat st {};
    if (::fstat(2, &st) != 0) return false;
    return std::string(v) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// "%*" in a pattern: the syslog priority of the message's level, as sd-daemon(3) prefixes.
class SyslogPriority final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const char* p = "<6>";
        switch (msg.level) {
            case spdlog::level::trace:
            case spdlog::level::debug:
                p = "<7>";
                break;
            case spdlog::level::info:
                p = "<6>";
                break;
            case spdlog::level::warn:
                p = "<4>";
                break;
            case spdlog::level::err:
                p = "<3>";
                break;
            case spdlog::level::critical:
                p = "<2>";
                break;
            default:
                break;
        }
        dest.append(p, p + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<SyslogPriority>();
    }
};

}  // namespace

void log_to_stderr() {
    if (!stderr_is_journal()) {
        spdlog::set_default_logger(spdlog::stderr_color_mt("nocturne"));
        return;
    }
    auto logger = spdlog::stderr_logger_mt("nocturne");
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    // The journal stamps each line itself.
    formatter->add_flag<SyslogPriority>('*').set_pattern("%*%v");
    logger->set_formatter(std::move(formatter));
    spdlog::set_default_logger(logger);
}

}  // namespace nocturne::cli
