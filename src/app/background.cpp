#include <nocturne/app/background.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace nocturne::app {

int start_in_background(const std::function<int(const std::function<void()>& ready)>& daemon,
                        std::ostream& out, std::ostream& err) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        err << "nocturne-agent: cannot start in the background: " << std::strerror(errno) << "\n";
        return 1;
    }
    std::cout.flush();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        err << "nocturne-agent: cannot start in the background: " << std::strerror(errno) << "\n";
        return 1;
    }
    if (pid == 0) {
        ::close(fds[0]);
        ::setsid();  // no controlling terminal: a closed terminal does not take the daemon along
        const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[1]);
        const auto ready = [devnull] {
            std::cout.flush();
            std::cerr.flush();
            std::fflush(nullptr);
            // The parent sees end-of-file and returns; the daemon's output goes nowhere from now
            // on (its logs go to $NOCTURNE_HOME/logs).
            if (devnull >= 0) {
                ::dup2(devnull, STDOUT_FILENO);
                ::dup2(devnull, STDERR_FILENO);
            }
        };
        return daemon(ready);
    }

    ::close(fds[1]);
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    bool ready = false;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const auto line = text.substr(start, end - start);
        if (line.rfind("ready ", 0) == 0) {
            ready = true;
            out << line << "\n";
        } else if (!line.empty()) {
            err << line << "\n";
        }
        start = end + 1;
    }
    if (ready) {
        out << "pid=" << pid << "\n";
        return 0;
    }
    // The daemon stopped before it was ready: its exit code says how.
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) return WEXITSTATUS(status);
    err << "nocturne-agent: the node stopped before it was ready\n";
    return 1;
}

}  // namespace nocturne::app
