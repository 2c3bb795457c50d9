#include "verdi/lifecycle.h"

#include "verdi/log.h"
#include "verdi/work_root.h"

namespace verdi {
namespace {

// The job as the statuses see it: with job_info.worker_group.
Json WithGroup(const Json& job, const std::string& group) {
  Json copy = job;
  if (copy.contains("job_info") && copy["job_info"].is_object())
    copy["job_info"]["worker_group"] = group;
  return copy;
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
  if (next_ != nullptr) next_->Finished(*reported, outcome);
  BoundWorkRoot();
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
