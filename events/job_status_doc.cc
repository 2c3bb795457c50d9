#include "events/job_status_doc.h"

#include "jobspec/job_status.h"

#include <algorithm>
#include <cmath>

namespace verdi {
namespace {

/// The value at `keys` below `root`, or null.
Json ValueAt(const Json& root, std::initializer_list<std::string_view> keys) {
  const Json* found = FindPath(root, keys);
  return found == nullptr ? Json() : *found;
}

/// HySDS's get_short_error on a Python str: the message when it has at most
/// 35 code points, else its first 20, ".....", and its last 10. Counting code
/// points, not bytes, never cuts a UTF-8 sequence in two (which Python's
/// msgpack.unpackb(raw=False) refuses); on ASCII it is jobspec's ShortError.
Json StringOrNull(const std::string& s) { return s.empty() ? Json() : Json(s); }

/// job.tags as a list (a string becomes a one-item list) plus job.tag.
Json Tags(const Json& job) {
  Json tags = Json::array();
  if (const Json* given = FindPath(job, {"tags"}); given != nullptr) {
    if (given->is_array()) {
      tags = *given;
    } else if (given->is_string()) {
      tags.push_back(*given);
    }
  }
  if (const Json* tag = FindPath(job, {"tag"}); tag != nullptr && !tag->is_null()) {
    tags.push_back(*tag);
  }
  return tags;
}

}  // namespace

Json JobStatusDocument(const Json& job, const std::string& status,
                       const std::string& celery_hostname, const StatusDetails& details,
                       WallClock::time_point now) {
  Json doc = Json::object();
  doc["uuid"] = ValueAt(job, {"task_id"});
  doc["job_id"] = ValueAt(job, {"job_id"});
  doc["payload_id"] = ValueAt(job, {"job_info", "job_payload", "payload_task_id"});
  doc["payload_hash"] = ValueAt(job, {"job_info", "payload_hash"});
  doc["dedup"] = ValueAt(job, {"job_info", "dedup"});
  doc["status"] = status;
  doc["job"] = job;
  doc["celery_hostname"] = celery_hostname;
  if (!details.error.empty()) {
    doc["error"] = details.error;
    doc["short_error"] = ShortError(details.error);
    doc["traceback"] = details.traceback.empty() ? details.error : details.traceback;
  }
  if (details.signum.has_value()) doc["signum"] = *details.signum;
  if (!details.dedup_job.empty() || !details.dedup_msg.empty()) {
    doc["dedup_job"] = StringOrNull(details.dedup_job);
    doc["dedup_msg"] = StringOrNull(details.dedup_msg);
  }
  if (!details.msg.empty()) doc["msg"] = details.msg;
  if (!details.msg_details.empty()) doc["msg_details"] = details.msg_details;
  doc["resource"] = "job";
  const Json* type = FindPath(job, {"type"});
  doc["type"] = type == nullptr ? Json("unknown") : *type;
  doc["@version"] = "1";
  doc["@timestamp"] = IsoUtc(now);
  doc["tags"] = Tags(job);
  return doc;
}

Json JobInfoDocument(const Json& job, WallClock::time_point now) {
  Json filtered = Json::object();
  for (const char* key :
       {"job_info", "job_id", "task_id", "delivery_info", "tag", "priority", "container_image_name",
        "container_image_url", "container_image_urls", "name"}) {
    if (const Json* value = FindPath(job, {key}); value != nullptr) filtered[key] = *value;
  }
  return Json{{"type", "job_info"},
              {"@version", "1"},
              {"@timestamp", IsoUtc(now)},
              {"job", std::move(filtered)},
              {"job_type", ValueAt(job, {"type"})}};
}

Json CustomEventDocument(const std::string& type, const std::string& status, const Json& event,
                         const std::vector<std::string>& tags, const std::string& hostname,
                         const std::string& uuid, WallClock::time_point now) {
  return Json{
      {"resource", "event"},  {"type", type}, {"status", status}, {"@timestamp", IsoUtc(now)},
      {"hostname", hostname}, {"uuid", uuid}, {"tags", tags},     {"@version", "1"},
      {"event", event}};
}

int64_t StatusTtlSeconds(const Json& job, int64_t expires, int64_t gap) {
  const Json* limit = FindPath(job, {"job_info", "time_limit"});
  if (limit == nullptr || !limit->is_number()) return expires;  // is_number: bool excluded
  // Python's int() truncates. Exact below 2^53, and anything near that is
  // capped anyway: Redis refuses TTLs whose milliseconds overflow.
  double seconds = std::trunc(limit->get<double>()) + 2.0 * static_cast<double>(gap);
  if (!std::isfinite(seconds)) return expires;
  if (seconds >= static_cast<double>(kMaxStatusTtlSeconds)) {
    return std::max(expires, kMaxStatusTtlSeconds);
  }
  return std::max(expires, static_cast<int64_t>(seconds));
}

bool IsTerminalStatus(const std::string& status) {
  return status == "job-completed" || status == "job-failed" || status == "job-deduped" ||
         status == "job-offline" || status == "job-revoked";
}

}  // namespace verdi
