#include <nocturne/api/prometheus_text.hpp>

#include <charconv>
#include <cmath>

namespace nocturne::api {
namespace {

std::string format_double(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // The shortest text that reads back as the same double: le="0.1", not 0.10000000000000001.
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc{} ? std::string(buf, end) : std::string("NaN");
}

void escape_into(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    escape_into(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void PrometheusText::name_and_labels(std::string_view name, const Labels& labels) {
    out_ += name;
    if (labels.empty()) return;
    out_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        escape_into(out_, labels[i].second, true);
        out_ += '"';
    }
    out_ += '}';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
    name_and_labels(name, labels);
    out_ += ' ';
    out_ += format_double(value);
    out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, std::uint64_t value) {
    name_and_labels(name, labels);
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, const Labels& labels, const Histogram& h) {
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= Histogram::bounds.size(); ++i) {
        cumulative += h.buckets[i];
        auto with_le = labels;
        with_le.emplace_back(
            "le", i < Histogram::bounds.size() ? format_double(Histogram::bounds[i]) : "+Inf");
        sample(bucket, with_le, cumulative);
    }
    sample(std::string(name) + "_sum", labels, h.sum);
    sample(std::string(name) + "_count", labels, h.count);
}

}  // namespace nocturne::api
