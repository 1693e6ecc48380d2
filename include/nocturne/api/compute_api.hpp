#pragma once

#include <nocturne/api/router.hpp>
#include <nocturne/compute/compute_service.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace nocturne::api {

// Adds the compute endpoints (docs/api.md) to `router`:
//   GET  /local/compute?domain=&kind=         claims the next open task (204: none)
//   GET  /local/compute?domain=&id=           claims that task (409 task_claimed: taken)
//   POST /local/compute                       {"domain","title","detail"}: publishes a task
//   GET  /local/compute/tasks?domain=         the domain's tasks that are not completed
//   POST /local/compute/{id}/result           {"result_id","epoch"[,"domain"]}: completes it
//   POST /local/compute/{id}/extend           {"epoch"}: renews the claim
//   POST /local/compute/{id}/release          {"epoch"}: gives the task back
// Without a domain, claims look through the domains this node knows (knowledge.domains()).
// The services must outlive the router.
void add_compute_routes(Router& router, compute::ComputeService& service,
                        knowledge::KnowledgeService& knowledge);

// A task as the API shows it: its creator's title and detail inside the untrusted envelope of
// `marker` (untrusted_text.hpp), the rest (set by the daemon or checked by it) outside.
nlohmann::json task_json(const compute::Task& task, const std::string& marker);
nlohmann::json state_json(const compute::TaskState& state);
// {"marker", "tasks": [task + "state"]}
nlohmann::json tasks_json(const std::vector<compute::ComputeService::Listed>& tasks);

}  // namespace nocturne::api
