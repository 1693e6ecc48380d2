#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>

// Asio stays out of test headers (compile time): the io_context is only named here.
namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace nocturne::test {

// An io_context that a test runs on a thread of its own, so blocking clients can talk to a server
// on it. Create the objects that use context() before start(), hand them work through call(), and
// join() to see that their work ran out (run() returned by itself).
//
// Owned by the test's main thread; call() and join() must not be called from the io thread.
class IoThread {
public:
    IoThread();
    ~IoThread();  // stops the context if join() did not succeed, then joins
    IoThread(const IoThread&) = delete;
    IoThread& operator=(const IoThread&) = delete;

    boost::asio::io_context& context();

    // Runs the context on a new thread; until join(), a work guard keeps run() from returning.
    void start();
    // Runs fn on the io thread and waits for it.
    void call(const std::function<void()>& fn);
    // Drops the work guard and waits up to timeout for run() to return for want of work. False
    // if it did not (something still pending): then the context is stopped and the thread joined.
    bool join(std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace nocturne::test
