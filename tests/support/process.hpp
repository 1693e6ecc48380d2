#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace nocturne::test {

// A child process with piped stdout and stderr. The destructor kills (SIGKILL) and reaps a child
// that is still running, so no test leaves a process behind, whatever assertion fails first.
class Process {
public:
    Process(const std::string& program, const std::vector<std::string>& args,
            const std::vector<std::string>& extra_env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // Next line of stdout, or nullopt on EOF or timeout.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Everything left on stderr once the child has exited (call after wait()).
    std::string drain_stderr();

    void signal(int sig);
    // Exit code, or 128+signal; nullopt if still running after timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_buf_;
    std::optional<int> status_;
};

// Path of the nocturne-agent binary under test (set by CTest through NOCTURNE_AGENT_BIN).
std::string agent_binary();

}  // namespace nocturne::test
