#pragma once

#include <nocturne/api/router.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/vote/vote_service.hpp>

namespace nocturne::api {

// Adds the knowledge endpoints (docs/api.md) to `router`:
//   POST   /local/knowledge           publish an entry
//   GET    /local/knowledge?domain=&q=&min_confidence=&limit=&cursor=   query a domain
//   DELETE /local/knowledge/{id}[?domain=]                              delete an own entry
// With `votes`, results carry each entry's tally (unless votes=false) and min_confidence filters
// on the voted confidence. The services must outlive the router.
void add_knowledge_routes(Router& router, knowledge::KnowledgeService& service,
                          vote::VoteService* votes = nullptr);

}  // namespace nocturne::api
