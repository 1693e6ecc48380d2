#pragma once

// Network namespaces for tests that need hosts with addresses of their own (issue #20 item 2):
// one namespace per node, each with a veth whose other end is a port of a bridge in a "switch"
// namespace. Nothing is added to the test's own namespace. A second bridge in the switch makes
// partitions: the ports moved onto it reach each other and not the rest.
//
// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's `ip`; unavailable_reason() says
// what is missing so that a test can skip with it.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "support/agent_cli.hpp"

namespace nocturne::test {

// Owned by the test's main thread.
class NetnsLab {
public:
    // Empty when this process can create network namespaces; otherwise why it cannot.
    static std::string unavailable_reason();

    // Creates the switch and `nodes` node namespaces, node i at ip(i) on a /16, each address in
    // a /24 of its own (the routing table's diversity groups). error() says what failed.
    explicit NetnsLab(std::size_t nodes);
    ~NetnsLab();  // deletes every namespace it made, and their interfaces with them
    NetnsLab(const NetnsLab&) = delete;
    NetnsLab& operator=(const NetnsLab&) = delete;

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t size() const { return nodes_; }
    std::string ns(std::size_t i) const;
    std::string ip(std::size_t i) const;

    // The nodes in `side` reach one another and no other node until heal(). Connections across
    // are not reset: their packets are lost, as on a real partition.
    bool partition(const std::vector<std::size_t>& side);
    bool heal();

private:
    // Makes the switch ports of `nodes` ports of `bridge`.
    bool move_ports(const std::vector<std::size_t>& nodes, const std::string& bridge);

    std::string prefix_;
    std::size_t nodes_ = 0;
    std::vector<std::string> made_;  // namespaces to delete
    std::string error_;
};

// Runs fn on a thread that entered namespace ns: sockets fn creates belong to ns (and keep
// working from any thread after). Fails the test if ns cannot be entered.
void run_in_netns(const std::string& ns, const std::function<void()>& fn);

// `ip args...`; an empty string on success, else what ip printed.
std::string run_ip(const std::vector<std::string>& args);

// run_agent() inside namespace ns (`ip netns exec`).
CliOutcome run_agent_in(const std::string& ns, const std::vector<std::string>& args);

// The path of iproute2's ip, or empty.
std::string ip_binary();

}  // namespace nocturne::test
