#include <nocturne/core/clock.hpp>

namespace nocturne {

Clock::time_point SystemClock::now() const {
    return std::chrono::time_point_cast<duration>(std::chrono::system_clock::now());
}

}  // namespace nocturne
