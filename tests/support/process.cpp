#include "support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace nocturne::test {

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 const std::vector<std::string>& extra_env) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    // The test runner's service-manager variables are not the child's: a daemon would report
    // to (and could wait on) the runner's manager. Tests that want them pass them in extra_env.
    const auto inherited = [](std::string_view e) {
        for (std::string_view name : {"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
                                      "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES="}) {
            if (e.starts_with(name)) return false;
        }
        return true;
    };
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        if (inherited(*e)) env_strings.emplace_back(*e);
    }
    for (const auto& e : extra_env) env_strings.push_back(e);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // A signal mask and ignored signals survive exec: the child starts as a shell would
        // start it, whatever the runner blocked or ignored (a blocked SIGTERM never stops it).
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err[1], STDERR_FILENO);
        ::execve(program.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    err_reader_ = std::thread([this] { read_stderr(); });
}

void Process::read_stderr() {
    char buf[4096];
    while (!stop_reading_) {
        // A timeout, so that a grandchild still holding the pipe cannot keep this thread forever.
        pollfd pfd{err_fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, 100);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;
        const ssize_t n = ::read(err_fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        std::lock_guard lock(err_mutex_);
        if (n <= 0) {
            err_eof_ = true;
            err_cv_.notify_all();
            return;
        }
        err_buf_.append(buf, static_cast<std::size_t>(n));
        if (err_buf_.size() > max_stderr_bytes) {
            err_buf_.erase(0, err_buf_.size() - max_stderr_bytes);
        }
        err_cv_.notify_all();
    }
}

Process::~Process() {
    if (!status_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
    stop_reading_ = true;
    if (err_reader_.joinable()) err_reader_.join();
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const auto nl = out_buf_.find('\n'); nl != std::string::npos) {
            std::string line = out_buf_.substr(0, nl);
            out_buf_.erase(0, nl + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd pfd{out_fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return std::nullopt;
        char buf[4096];
        const ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n <= 0) return std::nullopt;
        out_buf_.append(buf, static_cast<std::size_t>(n));
    }
}

std::string Process::drain_stderr() {
    std::unique_lock lock(err_mutex_);
    // An exited child has written everything: wait for the reader to reach the end. A running
    // one gets a moment for what it may be writing right now.
    const auto patience = status_ ? std::chrono::seconds(2) : std::chrono::milliseconds(100);
    err_cv_.wait_for(lock, patience, [this] { return err_eof_; });
    return std::exchange(err_buf_, {});
}

void Process::signal(int sig) {
    if (!status_) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::string agent_binary() {
    const char* bin = std::getenv("NOCTURNE_AGENT_BIN");
    return bin != nullptr ? bin : "nocturne-agent";
}

}  // namespace nocturne::test
