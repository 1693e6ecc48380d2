#pragma once

#include <chrono>
#include <cstdint>

namespace nocturne {

// The only source of "now" for protocol code, so that tests and the simulator run on virtual time.
// Wall-clock time: protocol timestamps are Unix seconds exchanged between machines.
class Clock {
public:
    using duration = std::chrono::milliseconds;
    using time_point = std::chrono::sys_time<duration>;

    virtual ~Clock() = default;
    virtual time_point now() const = 0;

    std::int64_t unix_seconds() const {
        return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
    }
};

class SystemClock final : public Clock {
public:
    time_point now() const override;
};

// Test and simulator clock: time moves only when told to. Owned by the thread that drives it.
class ManualClock final : public Clock {
public:
    explicit ManualClock(time_point start = time_point{std::chrono::seconds{1'700'000'000}})
        : now_(start) {}

    time_point now() const override { return now_; }
    void advance(duration d) { now_ += d; }
    void set(time_point t) { now_ = t; }

private:
    time_point now_;
};

}  // namespace nocturne
