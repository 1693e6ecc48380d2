#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace nocturne {

// Counts of observed durations in fixed buckets, as a Prometheus histogram exposes them
// (cumulative on output, `le` upper bounds in seconds): small, allocation-free and cheap to
// update on the node's thread. The bounds span what a lookup takes, from loopback to a slow
// mesh.
struct Histogram {
    static constexpr std::array<double, 12> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
    std::array<std::uint64_t, bounds.size() + 1> buckets{};  // the last: above every bound
    double sum = 0;
    std::uint64_t count = 0;

    void observe(double seconds) {
        std::size_t i = 0;
        while (i < bounds.size() && seconds > bounds[i]) ++i;
        ++buckets[i];
        sum += seconds;
        ++count;
    }
};

}  // namespace nocturne
