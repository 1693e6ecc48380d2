#pragma once

#include <nocturne/api/router.hpp>
#include <nocturne/vote/vote_service.hpp>

#include <nlohmann/json.hpp>

namespace nocturne::api {

// Adds the voting endpoints (docs/api.md) to `router`:
//   POST /local/knowledge/{id}/vote   {"domain","vote": 1|-1,"reason"}: commit now, reveal later
//   GET  /local/knowledge/{id}/votes?domain=   the tally as the responsible storers hold it
// The service must outlive the router.
void add_vote_routes(Router& router, vote::VoteService& service);

// The JSON of a tally, as GET .../votes answers it.
nlohmann::json votes_json(const vote::VoteService::Votes& votes, const vote::Windows& windows);

}  // namespace nocturne::api
