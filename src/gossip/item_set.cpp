#include <nocturne/core/sha256.hpp>
#include <nocturne/gossip/item_set.hpp>

#include <algorithm>
#include <cstring>

namespace nocturne::gossip {
namespace {

int nibble(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
}
constexpr char digits[] = "0123456789abcdef";

}  // namespace

void ItemSet::add_to(Sum& sum, const ItemId& id, bool subtract) {
    Sum value{};
    for (std::size_t w = 0; w < 4; ++w) {
        for (std::size_t b = 0; b < 8; ++b) value[w] = (value[w] << 8) | id.bytes()[w * 8 + b];
    }
    if (subtract) {
        // Two's complement: add the negation.
        for (auto& w : value) w = ~w;
        Sum one{0, 0, 0, 1};
        add_sums(value, one);
    }
    add_sums(sum, value);
}

void ItemSet::add_sums(Sum& into, const Sum& other) {
    std::uint64_t carry = 0;
    for (std::size_t w = 4; w-- > 0;) {
        const std::uint64_t a = into[w];
        const std::uint64_t s = a + other[w];
        const std::uint64_t c1 = s < a ? 1 : 0;
        const std::uint64_t t = s + carry;
        const std::uint64_t c2 = t < s ? 1 : 0;
        into[w] = t;
        carry = c1 | c2;
    }
}

wire::SyncRange ItemSet::make_range(std::string prefix, const Sum& sum, std::uint64_t count) {
    std::array<std::uint8_t, 40> buf{};
    for (std::size_t w = 0; w < 4; ++w) {
        for (std::size_t b = 0; b < 8; ++b) {
            buf[w * 8 + b] = static_cast<std::uint8_t>(sum[w] >> (56 - 8 * b));
        }
    }
    for (std::size_t b = 0; b < 8; ++b) buf[32 + b] = static_cast<std::uint8_t>(count >> (8 * b));
    const auto digest = sha256(bytes_view(buf.data(), buf.size()));
    wire::SyncRange r;
    r.prefix = std::move(prefix);
    r.count = count;
    std::memcpy(r.fingerprint.data(), digest.data(), r.fingerprint.size());
    return r;
}

std::pair<ItemId, ItemId> ItemSet::bounds(std::string_view prefix) {
    ItemId lo, hi;
    hi.bytes().fill(0xff);
    for (std::size_t i = 0; i < prefix.size() && i < 2 * ItemId::size; ++i) {
        const auto v = static_cast<std::uint8_t>(nibble(prefix[i]));
        auto& l = lo.bytes()[i / 2];
        auto& h = hi.bytes()[i / 2];
        if (i % 2 == 0) {
            l = static_cast<std::uint8_t>((l & 0x0f) | (v << 4));
            h = static_cast<std::uint8_t>((h & 0x0f) | (v << 4));
        } else {
            l = static_cast<std::uint8_t>((l & 0xf0) | v);
            h = static_cast<std::uint8_t>((h & 0xf0) | v);
        }
    }
    return {lo, hi};
}

bool ItemSet::add(const ItemId& id, wire::Record record, ItemClass cls, Clock::time_point until) {
    auto [it, inserted] = items_.try_emplace(id, Held{std::move(record), cls, until});
    if (!inserted) return false;
    expiry_.emplace(until, id);
    auto& bucket = buckets_[id.bytes()[0]];
    add_to(bucket.sum, id, false);
    ++bucket.count;
    return true;
}

const wire::Record* ItemSet::find(const ItemId& id) const {
    const auto it = items_.find(id);
    return it == items_.end() ? nullptr : &it->second.record;
}

void ItemSet::erase(std::map<ItemId, Held>::iterator it) {
    auto& bucket = buckets_[it->first.bytes()[0]];
    add_to(bucket.sum, it->first, true);
    --bucket.count;
    items_.erase(it);
}

void ItemSet::expire(Clock::time_point now) {
    while (!expiry_.empty() && expiry_.begin()->first <= now) {
        if (auto it = items_.find(expiry_.begin()->second); it != items_.end()) erase(it);
        expiry_.erase(expiry_.begin());
    }
}

wire::SyncRange ItemSet::range(std::string_view prefix) const {
    Sum sum{};
    std::uint64_t count = 0;
    if (prefix.size() <= 2) {
        // Whole first-byte buckets: prefix "" is all 256, "a" is 16, "ab" is one.
        const std::size_t first =
            prefix.empty() ? 0
            : prefix.size() == 1
                ? static_cast<std::size_t>(nibble(prefix[0])) << 4
                : static_cast<std::size_t>(nibble(prefix[0]) << 4 | nibble(prefix[1]));
        const std::size_t n = prefix.empty() ? 256 : prefix.size() == 1 ? 16 : 1;
        for (std::size_t b = first; b < first + n; ++b) {
            add_sums(sum, buckets_[b].sum);
            count += buckets_[b].count;
        }
    } else {
        const auto [lo, hi] = bounds(prefix);
        for (auto it = items_.lower_bound(lo); it != items_.end() && it->first <= hi; ++it) {
            add_to(sum, it->first, false);
            ++count;
        }
    }
    return make_range(std::string(prefix), sum, count);
}

std::vector<wire::SyncRange> ItemSet::split(std::string_view prefix) const {
    std::vector<wire::SyncRange> out;
    out.reserve(16);
    for (const char d : std::string_view(digits, 16)) out.push_back(range(std::string(prefix) + d));
    return out;
}

std::vector<ItemId> ItemSet::ids(std::string_view prefix) const {
    std::vector<ItemId> out;
    const auto [lo, hi] = bounds(prefix);
    for (auto it = items_.lower_bound(lo); it != items_.end() && it->first <= hi; ++it) {
        out.push_back(it->first);
    }
    return out;
}

std::vector<wire::SyncRange> ItemSet::opening(std::size_t per_range) const {
    per_range = std::max<std::size_t>(per_range, 1);
    std::vector<std::string> prefixes{""};
    for (std::size_t depth = 0; depth < 3 && items_.size() > per_range * prefixes.size(); ++depth) {
        std::vector<std::string> finer;
        finer.reserve(prefixes.size() * 16);
        for (const auto& p : prefixes) {
            for (const char d : std::string_view(digits, 16)) finer.push_back(p + d);
        }
        prefixes = std::move(finer);
    }
    std::vector<wire::SyncRange> out;
    out.reserve(prefixes.size());
    for (const auto& p : prefixes) out.push_back(range(p));
    return out;
}

}  // namespace nocturne::gossip
