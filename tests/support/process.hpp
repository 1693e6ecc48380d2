#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
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
    // What the child wrote to stderr since the last call (its last max_stderr_bytes). stderr is
    // read all along by a thread of ours: a child that logs more than a pipe holds (64 KiB) would
    // otherwise block in write(2) and look hung. After wait(), waits briefly for the rest.
    std::string drain_stderr();
    static constexpr std::size_t max_stderr_bytes = 1 << 20;

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

    void read_stderr();
    std::mutex err_mutex_;
    std::condition_variable err_cv_;
    std::string err_buf_;   // guarded by err_mutex_
    bool err_eof_ = false;  // guarded by err_mutex_
    std::atomic<bool> stop_reading_{false};
    std::thread err_reader_;
};

// Path of the nocturne-agent binary under test (set by CTest through NOCTURNE_AGENT_BIN).
std::string agent_binary();

}  // namespace nocturne::test
