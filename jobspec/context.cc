#include "jobspec/context.h"

namespace verdi {
namespace {

Json ValueOr(const Json& doc, const char* key, Json fallback) {
  auto it = doc.find(key);
  return it == doc.end() ? fallback : *it;
}

}  // namespace

Json ComposeContext(const Json& job) {
  Json context = Json::object();
  Json caller = ValueOr(job, "context", Json::object());
  if (caller.is_object() && !caller.empty()) context["context"] = caller;

  if (const Json* params = FindPath(job, {"params"}); params != nullptr && params->is_object())
    for (const auto& [key, value] : params->items()) context[key] = value;

  context["job_priority"] = ValueOr(job, "priority", nullptr);
  context["container_image_name"] = ValueOr(job, "container_image_name", nullptr);
  context["container_image_url"] = ValueOr(job, "container_image_url", nullptr);
  if (job.contains("container_image_urls"))
    context["container_image_urls"] = job["container_image_urls"];
  context["container_mappings"] = ValueOr(job, "container_mappings", Json::object());
  context["runtime_options"] = ValueOr(job, "runtime_options", Json::object());
  // json::value() throws when the key holds a non-string (a null task_id).
  const Json* id = FindPath(job, {"task_id"});
  std::string task_id = id != nullptr && id->is_string() ? id->get<std::string>() : "";
  context["_prov"] = {{"wasGeneratedBy", "task_id:" + task_id}};
  context["_force_ingest"] = ValueOr(job, "publish_overwrite_ok", false);
  return context;
}

bool SharesContext(const Json& job_doc) {
  auto it = job_doc.find("context");
  return it != job_doc.end() && it->is_object() && it->empty();
}

void MergeContext(const Json& reloaded, Json* context) {
  if (!reloaded.is_object()) return;
  for (const auto& [key, value] : reloaded.items()) (*context)[key] = value;
}

}  // namespace verdi
