#include "support/netns_lab.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sched.h>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include "support/process.hpp"

namespace nocturne::test {
namespace {

// Every name starts with this and the creating process's pid: concurrent tests do not collide,
// and namespaces a killed test left behind are found and deleted by the next one.
constexpr const char* name_prefix = "nct-";

std::string joined(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
}

// Namespaces of earlier test processes that no longer run.
void delete_orphans() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
        const auto name = e.path().filename().string();
        if (name.rfind(name_prefix, 0) != 0) continue;
        const auto dash = name.find('-', 4);
        if (dash == std::string::npos) continue;
        const auto pid = std::atoi(name.substr(4, dash - 4).c_str());
        if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH))
            (void)run_ip({"netns", "del", name});
    }
}

}  // namespace

std::string ip_binary() {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    return {};
}

std::string run_ip(const std::vector<std::string>& args) {
    const auto ip = ip_binary();
    if (ip.empty()) return "iproute2's ip is not installed";
    const auto o = run_program(ip, args);
    if (o.code == 0) return {};
    return "ip " + joined(args) + " exited with " + std::to_string(o.code) + ": " + o.err;
}

CliOutcome run_agent_in(const std::string& ns, const std::vector<std::string>& args) {
    std::vector<std::string> all = {"netns", "exec", ns, agent_binary()};
    all.insert(all.end(), args.begin(), args.end());
    return run_program(ip_binary(), all);
}

std::string NetnsLab::unavailable_reason() {
    if (ip_binary().empty()) return "iproute2's ip is not installed";
    if (::geteuid() != 0) return "network namespaces need root (CAP_SYS_ADMIN, CAP_NET_ADMIN)";
    const auto probe = name_prefix + std::to_string(::getpid()) + "-probe";
    if (auto err = run_ip({"netns", "add", probe}); !err.empty()) return err;
    if (auto err = run_ip(
            {"-n", probe, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"});
        !err.empty()) {
        (void)run_ip({"netns", "del", probe});
        return err;
    }
    (void)run_ip({"netns", "del", probe});
    return {};
}

NetnsLab::NetnsLab(std::size_t nodes)
    : prefix_(name_prefix + std::to_string(::getpid()) + "-"), nodes_(nodes) {
    delete_orphans();
    const auto sw = prefix_ + "sw";
    const auto step = [this](const std::vector<std::string>& args) {
        if (!error_.empty()) return;
        error_ = run_ip(args);
    };
    step({"netns", "add", sw});
    if (ok()) made_.push_back(sw);
    for (const char* br : {"br0", "br1"}) {
        step({"-n", sw, "link", "add", br, "type", "bridge"});
        step({"-n", sw, "link", "set", br, "up"});
    }
    for (std::size_t i = 0; i < nodes && ok(); ++i) {
        const auto n = ns(i);
        const auto port = "v" + std::to_string(i);
        step({"netns", "add", n});
        if (ok()) made_.push_back(n);
        step({"-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", n});
        step({"-n", sw, "link", "set", port, "master", "br0"});
        step({"-n", sw, "link", "set", port, "up"});
        step({"-n", n, "addr", "add", ip(i) + "/16", "dev", "eth0"});
        step({"-n", n, "link", "set", "eth0", "up"});
        step({"-n", n, "link", "set", "lo", "up"});
    }
}

NetnsLab::~NetnsLab() {
    // The switch first: its veth ends take their peers in the node namespaces with them.
    for (const auto& n : made_) {
        if (auto err = run_ip({"netns", "del", n}); !err.empty()) ADD_FAILURE() << err;
    }
}

std::string NetnsLab::ns(std::size_t i) const {
    return prefix_ + "n" + std::to_string(i);
}

std::string NetnsLab::ip(std::size_t i) const {
    return "10.77." + std::to_string(i + 1) + ".2";
}

bool NetnsLab::move_ports(const std::vector<std::size_t>& nodes, const std::string& bridge) {
    for (const auto i : nodes) {
        if (auto err = run_ip(
                {"-n", prefix_ + "sw", "link", "set", "v" + std::to_string(i), "master", bridge});
            !err.empty()) {
            ADD_FAILURE() << err;
            return false;
        }
    }
    return true;
}

bool NetnsLab::partition(const std::vector<std::size_t>& side) {
    return move_ports(side, "br1");
}

bool NetnsLab::heal() {
    std::vector<std::size_t> all(nodes_);
    for (std::size_t i = 0; i < nodes_; ++i) all[i] = i;
    return move_ports(all, "br0");
}

void run_in_netns(const std::string& ns, const std::function<void()>& fn) {
    std::string error;
    std::thread t([&] {
        const auto path = "/run/netns/" + ns;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            error = "open " + path + ": " + std::strerror(errno);
            return;
        }
        // Only this thread changes namespace (it is not the process's only thread).
        const int r = ::setns(fd, CLONE_NEWNET);
        const int saved = errno;
        ::close(fd);
        if (r != 0) {
            error = "setns " + path + ": " + std::strerror(saved);
            return;
        }
        fn();
    });
    t.join();
    if (!error.empty()) ADD_FAILURE() << error;
}

}  // namespace nocturne::test
