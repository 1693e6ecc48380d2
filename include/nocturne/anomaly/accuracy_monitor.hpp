#pragma once

// Accuracy drop-off: an operator whose revealed votes go against the settled tallies far more
// often than before. A one-sided CUSUM per operator (Page 1954) over x = 1 for a vote against the
// tally of the others, 0 for one with it: S = max(0, S + x - k). An honest operator disagrees
// now and then (S drifts down by k - p for a disagreement rate p < k and stays near 0); one that
// turns to voting against the mesh climbs by about 1 - k per vote and crosses h within a few
// rounds. No fixed ratio decides: a run of disagreements does, and the statistic restarts after
// each alarm.
//
// Pure: the vote storers' tallies come in (AnomalyService), alarms go out.
//
// Owned by the thread that owns the node; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace nocturne::anomaly {

struct AccuracyOptions {
    // Reference: above an honest voter's disagreement rate (a quarter to two fifths), below a
    // contrary one's (nine tenths: it climbs by 0.3 a vote).
    double k = 0.6;
    // Alarm threshold: 13 disagreements in a row from 0, or about 17 votes of a contrary voter.
    // An honest voter disagreeing a quarter of the time goes more than 10^6 votes without one.
    double h = 5.0;
    std::size_t max_operators = 16'384;
    std::size_t max_alarms = 256;
};

class AccuracyMonitor {
public:
    struct Alarm {
        std::string operator_id;
        std::int64_t at = 0;        // unix seconds of the tally that crossed h
        std::uint64_t votes = 0;    // votes of the operator judged so far
        std::uint64_t against = 0;  // of which against the tally
        double statistic = 0;       // S when it crossed h
    };

    explicit AccuracyMonitor(AccuracyOptions options = {}) : options_(options) {}

    // One settled vote of `operator_id`: against the others' tally or with it. The alarm, when
    // this one makes S cross h.
    std::optional<Alarm> observe(const std::string& operator_id, bool against, std::int64_t at);

    // Alarms raised, oldest first (at most max_alarms).
    const std::deque<Alarm>& alarms() const { return alarms_; }
    double statistic(const std::string& operator_id) const;

private:
    struct State {
        double s = 0;
        std::uint64_t votes = 0;
        std::uint64_t against = 0;
    };
    AccuracyOptions options_;
    std::map<std::string, State> operators_;
    std::deque<Alarm> alarms_;
};

}  // namespace nocturne::anomaly
