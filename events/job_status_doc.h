// The documents HySDS ships to Redis for Logstash: job
// statuses, job_info metrics and custom events. Pure builders: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/timestamp.h"
#include "jobspec/json_field.h"

namespace verdi {

/// Extra fields of a status document beyond the job itself. Strings must be
/// UTF-8 (sanitize file contents before putting them here): Python reads the
/// documents with msgpack.unpackb(raw=False).
struct StatusDetails {
  /// Set: error, short_error (ShortError's rule, counting code points as
  /// Python does, not bytes) and traceback (this
  /// traceback, or the error itself when it is empty, as HySDS's signal and
  /// lock paths do).
  std::string error;
  std::string traceback;
  /// Set: signum (0 is meaningful: a revoked job that was still queued).
  std::optional<int> signum;
  /// Either set: dedup_job and dedup_msg (an empty one as null).
  std::string dedup_job, dedup_msg;
  /// Non-empty: msg (the lines of _alt_msg.txt, already shortened by the caller).
  std::vector<std::string> msg;
  /// Non-empty: msg_details.
  std::string msg_details;
};

/// LU log_job_status's document, as it is pushed (after HC-598):
/// {uuid: job.task_id, job_id, payload_id: job.job_info.job_payload.payload_task_id,
///  payload_hash: job.job_info.payload_hash, dedup: job.job_info.dedup, status,
///  job: <the job>, celery_hostname, [error, short_error, traceback], [signum],
///  [dedup_job, dedup_msg], [msg], [msg_details], resource: "job",
///  type: job.type (else "unknown"), "@version": "1", "@timestamp": IsoUtc(now),
///  tags: job.tags (a list, a string as a one-item list, else []) + job.tag when
///  present and not null} — no "context" key. Missing job fields are null.
Json JobStatusDocument(const Json& job, const std::string& status,
                       const std::string& celery_hostname, const StatusDetails& details,
                       WallClock::time_point now);

/// LU log_job_info's document: {type: "job_info", "@version": "1", "@timestamp",
/// job_type: job.type (null when absent), job: {the keys job_info, job_id,
/// task_id, delivery_info, tag, priority, container_image_name,
/// container_image_url, container_image_urls, name that the job has}} — as
/// HySDS, a key the job lacks is left out rather than set to null.
Json JobInfoDocument(const Json& job, WallClock::time_point now);

/// LU log_custom_event's document: {resource: "event", type, status,
/// "@timestamp", hostname, uuid, tags, "@version": "1", event}.
Json CustomEventDocument(const std::string& type, const std::string& status, const Json& event,
                         const std::vector<std::string>& tags, const std::string& hostname,
                         const std::string& uuid, WallClock::time_point now);

/// TTL of hysds-job-status-<uuid>: max(expires, time_limit + 2 * gap) when
/// job.job_info.time_limit is a number (not a bool; a float is truncated as
/// Python's int() does), else expires. Capped at kMaxStatusTtlSeconds.
inline constexpr int64_t kMaxStatusTtlSeconds = 2147483647;  // 68 years
int64_t StatusTtlSeconds(const Json& job, int64_t expires = 86400, int64_t gap = 300);

/// The statuses after which a job document is final (LU TERMINAL_JOB_STATUSES):
/// job-completed, job-failed, job-deduped, job-offline, job-revoked.
bool IsTerminalStatus(const std::string& status);

}  // namespace verdi
