#include <nocturne/anomaly/accuracy_monitor.hpp>

#include <algorithm>

namespace nocturne::anomaly {

std::optional<AccuracyMonitor::Alarm> AccuracyMonitor::observe(const std::string& operator_id,
                                                               bool against, std::int64_t at) {
    auto it = operators_.find(operator_id);
    if (it == operators_.end()) {
        // Forgetting an operator's statistic costs a few votes of delay before an alarm, never a
        // false one: the statistics at 0 (the honest ones) go first.
        if (operators_.size() >= options_.max_operators) {
            std::erase_if(operators_, [](const auto& o) { return o.second.s == 0; });
            if (operators_.size() >= options_.max_operators) operators_.clear();
        }
        it = operators_.emplace(operator_id, State{}).first;
    }
    auto& st = it->second;
    ++st.votes;
    if (against) ++st.against;
    st.s = std::max(0.0, st.s + (against ? 1.0 : 0.0) - options_.k);
    if (st.s < options_.h) return std::nullopt;
    Alarm alarm{operator_id, at, st.votes, st.against, st.s};
    st.s = 0;
    if (alarms_.size() >= options_.max_alarms) alarms_.pop_front();
    alarms_.push_back(alarm);
    return alarm;
}

double AccuracyMonitor::statistic(const std::string& operator_id) const {
    const auto it = operators_.find(operator_id);
    return it == operators_.end() ? 0 : it->second.s;
}

}  // namespace nocturne::anomaly
