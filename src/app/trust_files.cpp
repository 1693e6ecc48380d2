#include <nocturne/app/trust_files.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

namespace nocturne::app {
namespace {

constexpr std::size_t max_genesis_bytes = 256 * 1024;
constexpr std::size_t max_records_file_bytes = 1024 * 1024;
constexpr std::size_t max_records_in_file = 64;

}  // namespace

result<trust::Genesis> load_genesis(const std::optional<std::filesystem::path>& file) {
    if (!file) {
        auto g = trust::parse_genesis(trust::builtin_genesis_text());
        if (!g)
            return Error(g.error().code(),
                         "the built-in genesis is invalid: " + g.error().message());
        return g;
    }
    auto text = read_file(*file, max_genesis_bytes);
    if (!text) {
        return Error(text.error().code(),
                     "cannot read genesis file " + file->string() + ": " + text.error().message());
    }
    auto g = trust::parse_genesis(*text);
    if (!g) {
        return Error(g.error().code(),
                     "invalid genesis file " + file->string() + ": " + g.error().message());
    }
    return g;
}

std::error_code save_records(const std::filesystem::path& file,
                             const std::vector<wire::Record>& records) {
    auto list = nlohmann::json::array();
    for (const auto& r : records) list.push_back(nlohmann::json::parse(wire::encode_record(r)));
    nlohmann::json doc = {{"version", 1}, {"records", list}};
    return write_file_atomic(file, doc.dump(2) + "\n");
}

result<std::vector<wire::Record>> load_records(const std::filesystem::path& file) {
    auto text = read_file(file, max_records_file_bytes);
    if (!text) return text.error();
    auto doc = wire::parse_json(*text, max_records_file_bytes, wire::default_limits.max_json_depth);
    if (!doc) return doc.error();
    wire::ObjectReader r(*doc);
    const auto version = r.int64("version", 0, 1000);
    const auto* list = r.array("records", max_records_in_file);
    if (auto ec = r.finish()) return ec;
    if (version != 1) return make_error_code(errc::unknown_version);
    std::vector<wire::Record> out;
    for (const auto& item : *list) {
        auto rec = wire::decode_record(wire::to_compact_json(item));
        if (!rec) return rec.error();
        out.push_back(std::move(*rec));
    }
    return out;
}

std::error_code save_operator_label(const std::filesystem::path& file, const std::string& label) {
    return write_file_atomic(file, nlohmann::json{{"label", label}}.dump(2) + "\n");
}

result<std::string> load_operator_label(const std::filesystem::path& file) {
    auto text = read_file(file, 4096);
    if (!text) return text.error();
    auto doc = wire::parse_json(*text, 4096, 4);
    if (!doc) return doc.error();
    wire::ObjectReader r(*doc);
    auto label = r.string("label", 64);
    if (auto ec = r.finish()) return ec;
    if (!trust::is_valid_label(label)) return make_error_code(errc::value_out_of_range);
    return label;
}

}  // namespace nocturne::app
