#pragma once

#include <nocturne/core/histogram.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nocturne::api {

// Writes the Prometheus text exposition format (version 0.0.4): for each metric family a # HELP
// and a # TYPE line, then its samples, label values escaped. What GET /local/metrics serves.
// (prometheus-cpp is in Debian, but its registry and its own types for every counter would
// duplicate the counters the node already keeps; this writes them as they are.)
//
// Names must be valid metric names (the callers' are literals); label values are any text.
class PrometheusText {
public:
    using Labels = std::vector<std::pair<std::string_view, std::string>>;

    // Starts a family: type is "counter", "gauge" or "histogram".
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, double value);
    void sample(std::string_view name, const Labels& labels, std::uint64_t value);
    // A histogram's _bucket (cumulative, le="+Inf" last), _sum and _count samples.
    void histogram(std::string_view name, const Labels& labels, const Histogram& h);

    const std::string& text() const { return out_; }

private:
    void name_and_labels(std::string_view name, const Labels& labels);

    std::string out_;
};

// The content type of the format.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace nocturne::api
