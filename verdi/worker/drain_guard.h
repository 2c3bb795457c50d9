// Job-drain protection: a worker whose jobs fail one after
// the other, fast, is broken (a full disk, a bad mount, ...) and would drain
// its queue into job-failed; it stops taking jobs instead.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <string>

#include "base/timestamp.h"

namespace verdi {

namespace fs = std::filesystem;
class StatusSink;

struct JobDrainSettings {
  /// WORKER_CONTIGUOUS_FAILURE_THRESHOLD.
  int threshold = 10;
  /// WORKER_CONTIGUOUS_FAILURE_TIME, seconds.
  double window_seconds = 5.0;
};

/// The count of consecutive failures and the rule (pure; the clock is given).
class JobDrain {
 public:
  explicit JobDrain(JobDrainSettings settings) : settings_(settings) {}

  /// Records a job's final status at `now`: job-failed counts (the first
  /// failure of a run starts the clock), job-completed and job-deduped reset
  /// the count, anything else leaves it. True when this failure makes
  /// count > threshold and count / elapsed >= threshold / window.
  bool Record(const std::string& status, WallClock::time_point now);

  int count() const { return count_; }
  /// When the first failure of the current run was recorded.
  WallClock::time_point starttime() const { return start_; }

 private:
  JobDrainSettings settings_;
  int count_ = 0;
  WallClock::time_point start_;
};

/// JobDrain with HySDS's side effects, shared by the job slots (thread-safe):
/// <root>/workers/<hostname>.failures.json ({count, starttime, pid}) written
/// on each failure and removed on a success; on a trigger the file removed,
/// the custom event worker_anomaly / job_drain sent through `sink` (may be
/// null), one ERROR line logged.
class JobDrainGuard {
 public:
  JobDrainGuard(JobDrainSettings settings, fs::path root_work_dir, std::string hostname,
                StatusSink* sink, std::function<WallClock::time_point()> now = WallClock::now);

  /// See JobDrain::Record; true on a trigger.
  bool Record(const std::string& status);

  fs::path failures_file() const { return file_; }

 private:
  std::mutex mu_;
  JobDrain drain_;
  JobDrainSettings settings_;
  fs::path file_;
  std::string hostname_;
  StatusSink* sink_;
  std::function<WallClock::time_point()> now_;
};

}  // namespace verdi
