// The `run_job` job payload and its job_info, as HySDS queues them: the one
// argument of the hysds.job_worker.run_job task, or the content of a
// stand-alone JOB.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobspec/job_spec.h"
#include "jobspec/json_field.h"

namespace verdi {

/// One entry of `localize_urls`.
struct LocalizeUrl {
  std::string url;
  std::string local_path;  // empty: the job dir, under the URL's basename
  bool cache = true;
};

/// A validated job. `doc` is the job as received and is what `_job.json`
/// holds: the worker adds its fields to it (task_id, command, job_info.*).
/// The typed members are read from it once, at parse time.
struct Job {
  Json doc;

  std::string job_id;
  std::string type;
  std::string task_id;  // empty when the payload has none
  int64_t priority = 0;
  std::vector<LocalizeUrl> localize_urls;
  /// params._command: the command line HySDS's resolver built.
  std::optional<std::string> command_line;
  /// params._disk_usage, in bytes.
  std::optional<uint64_t> disk_usage_bytes;
  /// params.job_specification, when the payload carries it.
  std::optional<JobSpec> spec;
  /// job_info.soft_time_limit / job_info.time_limit, in seconds.
  std::optional<int64_t> soft_time_limit;
  std::optional<int64_t> time_limit;
};

/// Reads a `localize_urls` list (absent or null: none) into `urls`.
Status ParseLocalizeUrls(const JsonField& field, std::vector<LocalizeUrl>* urls);

/// Validates `doc` (named "job" in errors) and fills `job`. Required: an
/// object with `job_id` (a safe directory name) and `type`. Every other key
/// of the payload and of job_info is optional but must have the type HySDS
/// gives it.
Status ParseJob(Json doc, Job* job);

}  // namespace verdi
