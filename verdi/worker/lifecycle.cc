#include "verdi/worker/lifecycle.h"

#include "base/log.h"
#include "verdi/workdir/size_bound.h"

namespace verdi {
namespace {

// The job as the statuses see it: with job_info.worker_group.
Json WithGroup(const Json& job, const std::string& group) {
  Json copy = job;
  if (copy.contains("job_info") && copy["job_info"].is_object())
    copy["job_info"]["worker_group"] = group;
  return copy;
}

bool WantsArchive(const ArchiveSettings& archive, const JobOutcome& outcome) {
  return !archive.url.empty() && !outcome.job_dir.empty() &&
         (archive.always || !outcome.completed());
}

}  // namespace

void LifecycleObserver::Started(const Json& job) {
  if (next_ == nullptr) return;
  if (settings_.group.empty()) return next_->Started(job);
  next_->Started(WithGroup(job, settings_.group));
}

void LifecycleObserver::Finished(const Json& job, const JobOutcome& outcome) {
  if (outcome.infrastructure_error && policy_->InfrastructureError(outcome.error))
    LogError("--exit-on-exception: {}; the worker stops", outcome.error);
  Json copy;
  const Json* reported = &job;
  if (!settings_.group.empty()) {
    copy = WithGroup(job, settings_.group);
    reported = &copy;
  }
  if (WantsArchive(settings_.archive, outcome)) {
    if (reported == &job) copy = job;
    reported = &copy;
    Archive(job, outcome, &copy);
  }
  if (next_ != nullptr) next_->Finished(*reported, outcome);
  BoundWorkRoot();
}

void LifecycleObserver::Archive(const Json& job, const JobOutcome& outcome, Json* reported) {
  {
    std::lock_guard<std::mutex> lock(busy_mu_);
    busy_.insert(outcome.job_dir);  // the bound leaves it alone meanwhile
  }
  std::string url;
  Status st =
      ArchiveJobDir(settings_.archive.url, root_, outcome.job_dir, job.value("task_id", ""), &url);
  {
    std::lock_guard<std::mutex> lock(busy_mu_);
    busy_.erase(outcome.job_dir);
  }
  Json& info = (*reported)["job_info"];
  if (!info.is_object()) return;
  if (st.ok()) {
    LogInfo("job {}: work dir archived to {}", job.value("job_id", "?"), url);
    info["work_dir_archive_url"] = url;
    return;
  }
  LogWarning("job {}: work dir not archived: {}", job.value("job_id", "?"), st.message());
  info["work_dir_archive_error"] = st.message();
  if (policy_->InfrastructureError("archiving a work dir: " + st.message()))
    LogError("--exit-on-exception: archiving a work dir failed; the worker stops");
}

void LifecycleObserver::BoundWorkRoot() {
  if (!settings_.max_work_dir_bytes) return;
  WorkRootBound bound;
  bound.max_bytes = *settings_.max_work_dir_bytes;
  bound.keep_failed = settings_.keep_failed_work_dirs;
  bound.evict_cache = evict_cache_;
  bound.in_use = [this](const std::filesystem::path& dir) {
    std::lock_guard<std::mutex> lock(busy_mu_);
    return busy_.count(dir) > 0;
  };
  std::lock_guard<std::mutex> lock(bound_mu_);
  Status st = verdi::BoundWorkRoot(root_, bound);
  if (!st.ok()) LogWarning("{}", st.message());
}

}  // namespace verdi
