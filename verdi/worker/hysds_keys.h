// The HySDS keys a worker reads and writes on the status Redis outside the
// status documents: hysds-revoked-task-<id> (read before a
// job runs), hysds-job-status-<id> (read when a task comes back
// redelivered) and hysds-task-worker-<id> (written when it starts).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "redis/redis_client.h"

namespace verdi {

/// HYSDS_JOB_STATUS_EXPIRES: the TTL of hysds-task-worker-<id>.
inline constexpr int64_t kHysdsTaskWorkerTtlSeconds = 86400;

/// One Redis connection shared by the job slots. Thread-safe. Every call is
/// bounded by `timeout` (at most 2 s); it connects on first use and again
/// after an error, but not before `retry_after` has passed since the last
/// failure, so an absent Redis costs a job nothing after the first try. A
/// failure is logged once when it starts and once when Redis is back.
class HysdsKeys {
 public:
  /// Invalid when `url` is malformed (the password redacted).
  static Status Make(const std::string& url, std::unique_ptr<HysdsKeys>* out,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                     std::chrono::milliseconds retry_after = std::chrono::milliseconds(5000));

  /// True when hysds-revoked-task-<task_id> exists; false when it does not
  /// or Redis cannot say.
  bool IsRevoked(const std::string& task_id);

  /// The value of hysds-job-status-<task_id> (the task's last HySDS
  /// status); "" when there is none or Redis cannot say.
  std::string JobStatus(const std::string& task_id);

  /// SETEX hysds-task-worker-<task_id> 86400 <hostname>; false when not done.
  bool SetTaskWorker(const std::string& task_id, const std::string& hostname);

  /// Runs any one command on the same connection (verdi's own keys, e.g.
  /// task_claims.h); false (logged) on a connection or error reply.
  bool Run(const std::vector<std::string>& argv, RedisReply* reply);

 private:
  HysdsKeys(RedisUrl url, std::chrono::milliseconds timeout, std::chrono::milliseconds retry_after)
      : url_(std::move(url)), timeout_(timeout), retry_after_(retry_after) {}

  std::mutex mu_;
  RedisUrl url_;
  std::chrono::milliseconds timeout_, retry_after_;
  RedisClient client_;
  bool failing_ = false;
  std::chrono::steady_clock::time_point next_try_;
};

}  // namespace verdi
