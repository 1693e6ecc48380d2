// Fuzzes what the local API does with a request before (and instead of) a handler: the target
// (Boost.URL's origin form, percent-decoding, query parameters), the router's matching (dot
// segments, escapes, parameters, methods), the Host, Authorization and Content-Type checks, and
// the JSON bodies of the endpoints that take one (a knowledge entry). The Beast session itself
// (framing, limits) is Beast's; its rules are tested in tests/api/http_server_test.cpp.
//
//   build/fuzz/tools/fuzz/fuzz_api -max_total_time=60 corpus/

#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/api/request_checks.hpp>
#include <nocturne/api/router.hpp>
#include <nocturne/api/target.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

const nocturne::api::Router& router() {
    static const auto r = [] {
        nocturne::api::Router out;
        const auto echo = [](const nocturne::api::Request&, const nocturne::api::PathParams& p) {
            return nocturne::api::Response{200, std::to_string(p.size()), {}};
        };
        out.add("GET", "/local/health", echo);
        out.add("GET", "/local/knowledge", echo);
        out.add("GET", "/local/knowledge/search", echo);
        out.add("GET", "/local/knowledge/{id}", echo);
        out.add("DELETE", "/local/knowledge/{domain}/{id}", echo);
        out.add("POST", "/local/votes/{entry}", echo);
        return out;
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
        case 0: {
            nocturne::api::Request request;
            request.method = (data[0] & 0x80) != 0 ? "GET" : "DELETE";
            if (nocturne::api::parse_target(input, request)) break;
            (void)router().route(request);
            (void)router().endpoint_of(request);
            break;
        }
        case 1:
            (void)nocturne::api::is_loopback_host(input);
            (void)nocturne::api::bearer_token(input);
            (void)nocturne::api::token_matches(input, "0123456789abcdef0123456789abcdef");
            (void)nocturne::api::is_json_content_type(input);
            (void)nocturne::api::percent_decode(input, true);
            break;
        case 2: {
            const auto body = nlohmann::json::parse(input, nullptr, false);
            if (!body.is_discarded()) (void)nocturne::api::draft_from_json(body);
            break;
        }
    }
    return 0;
}
