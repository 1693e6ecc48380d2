#include "support/io_thread.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <optional>

namespace nocturne::test {

struct IoThread::State {
    boost::asio::io_context io;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    std::thread thread;
    std::promise<void> finished;
};

IoThread::IoThread() : state_(std::make_unique<State>()) {}

IoThread::~IoThread() {
    if (state_->thread.joinable()) {
        state_->guard.reset();
        state_->io.stop();
        state_->thread.join();
    }
}

boost::asio::io_context& IoThread::context() {
    return state_->io;
}

void IoThread::start() {
    state_->guard.emplace(state_->io.get_executor());
    state_->thread = std::thread([s = state_.get()] {
        s->io.run();
        s->finished.set_value();
    });
}

void IoThread::call(const std::function<void()>& fn) {
    std::promise<void> done;
    boost::asio::post(state_->io, [&] {
        try {
            fn();
            done.set_value();
        } catch (...) {
            done.set_exception(std::current_exception());
        }
    });
    done.get_future().get();  // rethrows what fn threw
}

bool IoThread::join(std::chrono::milliseconds timeout) {
    if (!state_->thread.joinable()) return true;
    state_->guard.reset();
    const bool ran_out =
        state_->finished.get_future().wait_for(timeout) == std::future_status::ready;
    if (!ran_out) state_->io.stop();
    state_->thread.join();
    return ran_out;
}

}  // namespace nocturne::test
