#include <nocturne/app/peer_snapshot.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

namespace nocturne::app {
namespace {

constexpr std::size_t max_snapshot_bytes = 4 * 1024 * 1024;
constexpr std::size_t max_snapshot_peers = 256 * 20;  // every bucket full at k = 20

}  // namespace

std::error_code save_peer_snapshot(const std::filesystem::path& file,
                                   const std::vector<wire::Contact>& peers) {
    auto list = nlohmann::json::array();
    for (const auto& p : peers) list.push_back({{"id", p.id.to_hex()}, {"address", p.address}});
    return write_file_atomic(file, wire::to_compact_json({{"version", 1}, {"peers", list}}) + "\n");
}

result<std::vector<wire::Contact>> load_peer_snapshot(const std::filesystem::path& file) {
    auto text = read_file(file, max_snapshot_bytes);
    if (!text) return text.error();
    auto doc = wire::parse_json(*text, max_snapshot_bytes, 8);
    if (!doc) return doc.error();
    wire::ObjectReader r(*doc);
    const auto version = r.int64("version", 1, 1);
    const nlohmann::json* list = r.array("peers", max_snapshot_peers);
    if (auto ec = r.finish()) return ec;
    (void)version;
    std::vector<wire::Contact> peers;
    for (const auto& item : *list) {
        wire::ObjectReader p(item);
        wire::Contact c;
        c.id = p.node_id("id");
        c.address = p.string("address", wire::max_address_bytes);
        if (auto ec = p.finish()) return ec;
        if (!wire::is_valid_address(c.address)) return make_error_code(errc::value_out_of_range);
        peers.push_back(std::move(c));
    }
    return peers;
}

}  // namespace nocturne::app
