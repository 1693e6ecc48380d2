#pragma once

#include <nocturne/api/router.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>

namespace nocturne::api {

// Adds the knowledge endpoints (docs/api.md) to `router`:
//   POST   /local/knowledge           publish an entry
//   GET    /local/knowledge?domain=&q=&min_confidence=&limit=&cursor=   query a domain
//   DELETE /local/knowledge/{id}[?domain=]                              delete an own entry
// The service must outlive the router.
void add_knowledge_routes(Router& router, knowledge::KnowledgeService& service);

}  // namespace nocturne::api
