// What a worker does around its jobs beyond running them (issue 9): when it
// stops by itself, how it keeps its work root, what it does with a finished
// job's directory. The settings of `verdi worker`'s lifecycle options, and
// the JobObserver that applies the per-job ones.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "verdi/job/pipeline.h"
#include "verdi/workdir/archive.h"
#include "verdi/worker/exit_policy.h"

namespace verdi {

struct LifecycleSettings {
  ExitPolicySettings exit;
  /// --pass-down-termination: SIGTERM (SIGINT) stops running jobs at
  /// once and requeues them, instead of a warm shutdown.
  bool pass_down_termination = false;
  /// --delete-work-dir-on-exit.
  bool delete_work_dir_on_exit = false;
  /// --max-work-dir-size, in bytes.
  std::optional<uint64_t> max_work_dir_bytes;
  /// --keep-failed-work-dirs.
  bool keep_failed_work_dirs = false;
  /// --echo: log and ack every message, run nothing.
  bool echo = false;
  /// --group: reported in job_info.worker_group of each job's statuses.
  std::string group;
  /// --archive-work-dir URL, --archive-on.
  ArchiveSettings archive;
};

/// Wraps the observer chain (`next`: metrics, statuses; may be null): adds
/// the group to what the statuses see; after a job's close-out archives its
/// directory (job_info.work_dir_archive_url, or work_dir_archive_error, in
/// the final status), then keeps the work root under its bound; tells
/// `policy` of infrastructure errors.
/// Called on the job slots' threads; thread-safe.
class LifecycleObserver : public JobObserver {
 public:
  LifecycleObserver(const LifecycleSettings& settings, std::filesystem::path root, bool evict_cache,
                    ExitPolicy* policy, JobObserver* next)
      : settings_(settings),
        root_(std::move(root)),
        evict_cache_(evict_cache),
        policy_(policy),
        next_(next) {}

  void Started(const Json& job) override;
  void Finished(const Json& job, const JobOutcome& outcome) override;

  /// Applies --max-work-dir-size now (at start, and after each job).
  void BoundWorkRoot();

 private:
  /// Archives the closed-out job dir when the settings ask for it; adds
  /// what happened to `reported`'s job_info.
  void Archive(const Json& job, const JobOutcome& outcome, Json* reported);

  const LifecycleSettings& settings_;
  const std::filesystem::path root_;
  const bool evict_cache_;
  ExitPolicy* policy_;
  JobObserver* next_;
  std::mutex bound_mu_;  // one bound pass at a time
  std::mutex busy_mu_;
  std::set<std::filesystem::path> busy_;  // closed-out dirs still being handled
};

}  // namespace verdi
