#include "verdi/job/job_redaction.h"

#include <array>

#include "base/redact.h"

namespace verdi {
namespace {

constexpr std::array<const char*, 5> kFields = {"/localize_urls", "/params/localize_urls",
                                                "/container_image_url", "/container_image_urls",
                                                "/dependency_images"};

void RedactLocalizeUrls(Json* list) {
  if (!list->is_array()) return;
  for (Json& entry : *list) {
    if (entry.is_object() && entry.contains("url") && entry["url"].is_string())
      entry["url"] = RedactUrls(entry["url"].get<std::string>());
    else if (entry.is_string())
      entry = RedactUrls(entry.get<std::string>());
  }
}

// The image URLs of a job or of one of its dependency images.
void RedactImageUrls(Json* holder) {
  if (!holder->is_object()) return;
  if (auto it = holder->find("container_image_url"); it != holder->end() && it->is_string())
    *it = RedactUrls(it->get<std::string>());
  if (auto it = holder->find("container_image_urls"); it != holder->end()) {
    if (it->is_string()) *it = RedactUrls(it->get<std::string>());
    if (it->is_object())
      for (auto& [arch, url] : it->items())
        if (url.is_string()) url = RedactUrls(url.get<std::string>());
  }
  if (auto it = holder->find("dependency_images"); it != holder->end() && it->is_array())
    for (Json& dep : *it) RedactImageUrls(&dep);
}

}  // namespace

Json UnredactedFields(const Json& job) {
  Json fields = Json::object();
  for (const char* pointer : kFields) {
    Json::json_pointer at(pointer);
    if (job.is_object() && job.contains(at)) fields[pointer] = job.at(at);
  }
  return fields;
}

void RestoreUnredactedFields(const Json& fields, Json* job) {
  for (const auto& [pointer, value] : fields.items()) {
    Json::json_pointer at(pointer);
    Json::json_pointer parent = at.parent_pointer();
    if (job->contains(parent) && job->at(parent).is_object()) (*job)[at] = value;
  }
}

void RedactJob(Json* job) {
  if (!job->is_object()) return;
  RedactImageUrls(job);
  if (auto it = job->find("localize_urls"); it != job->end()) RedactLocalizeUrls(&*it);
  if (auto it = job->find("params");
      it != job->end() && it->is_object() && it->contains("localize_urls"))
    RedactLocalizeUrls(&(*it)["localize_urls"]);
}

}  // namespace verdi
