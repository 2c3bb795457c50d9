// HySDS's worker-side dedup (job_worker.run_job with job_info.dedup true,
// utils.query_dedup_job with is_worker): before a job starts, its payload
// hash is marked on the status Redis (`hysds-payload-hash-<hash>`, SET NX,
// 86400 s) and the job-status index is asked for another task with the same
// payload hash that started or completed; when there is one the job ends as
// job-deduped without running.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobspec/json_field.h"
#include "localize/transfer.h"
#include "redis/redis_client.h"

namespace verdi {

struct JobDedupSettings {
  /// JOBS_ES_URL: Elasticsearch or OpenSearch holding `job_status-current`
  /// (Mozart's); several are tried in order until one answers.
  std::vector<std::string> es_urls;
  /// JOBS_AWS_ES (or a host under es.amazonaws.com): requests are signed
  /// with AWS SigV4 for the service "es", with the credentials and region
  /// the AWS CLI would use.
  bool aws_es = false;
  /// Basic auth for the index: the `default` entry of this netrc file, as
  /// HySDS's search client reads ~/.netrc-os (none when it has none).
  std::string netrc_file;
  /// REDIS_JOB_STATUS_URL: where hysds-payload-hash-<hash> is set; none
  /// when empty.
  std::string redis_url;
  /// TLS (insecure hosts), connect timeout, of the index requests.
  localize::TransferSettings transfer;
  std::chrono::seconds request_timeout{30};
  int tries = 3;  // per URL, on connection errors and 5xx
};

/// The job a duplicate of: its document id in the index (the payload id)
/// and status.
struct DuplicateJob {
  std::string id;
  std::string status;
};

/// HySDS's query body for the index (query_dedup_job): the oldest queued
/// job with `payload_hash` in one of `states`, other than task `uuid`.
Json DedupQuery(const std::string& payload_hash, const std::string& uuid,
                const std::vector<std::string>& states);

/// The duplicate a search response names (hits.total as a number or as
/// {"value": n}); none for no hit. Invalid for a response of another shape.
Status DuplicateFromResponse(const Json& response, std::optional<DuplicateJob>* found);

/// Thread-safe: the job slots share one.
class JobDedup {
 public:
  explicit JobDedup(JobDedupSettings settings) : s_(std::move(settings)) {}
  const JobDedupSettings& settings() const { return s_; }

  /// For a job whose job_info.dedup is true: marks its payload hash on
  /// Redis (a Redis that cannot be reached costs a warning, never the
  /// job), then asks the index for a started or completed task with that
  /// hash other than `task_id`. An index that answers 404 (no such index)
  /// has none. An index that cannot be asked is an error naming it.
  Status FindDuplicate(const std::string& payload_hash, const std::string& task_id,
                       std::optional<DuplicateJob>* found);

 private:
  void MarkPayloadHash(const std::string& payload_hash);
  Status Search(const std::string& url, const std::string& body, long* code, std::string* response);

  JobDedupSettings s_;
  std::mutex redis_mu_;
  RedisClient redis_;
  bool redis_warned_ = false;
};

}  // namespace verdi
