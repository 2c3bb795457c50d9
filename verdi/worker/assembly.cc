#include "verdi/worker/assembly.h"

#include "base/log.h"
#include "jobspec/job_status.h"
#include "verdi/container/engine.h"
#include "verdi/workdir/recovery.h"

namespace verdi {

Status AssembleWorker(const WorkerSettings& settings, const WorkerShared& shared,
                      WorkerParts* parts) {
  VERDI_RETURN_IF_ERROR(MakeTaskResults(settings.result_backend, settings.result_expires,
                                        settings.results, shared.outbox, &parts->results));
  parts->pipeline = settings.pipeline;
  // A job stopped by a revoke ends as job-revoked.
  const RevokedSet* revoked = shared.revoked;
  parts->pipeline.revoked = [revoked](const std::string& task_id) {
    return revoked != nullptr && revoked->Contains(task_id);
  };
  if (settings.metrics_port != 0) {
    parts->metrics =
        std::make_unique<WorkerMetrics>(settings.concurrency, parts->pipeline.observer);
    parts->pipeline.observer = parts->metrics.get();
    VERDI_RETURN_IF_ERROR(MetricsServer::Start(settings.metrics_bind, settings.metrics_port,
                                               &parts->metrics->registry(),
                                               parts->metrics->Health(), &parts->metrics_server));
    LogInfo("metrics on http://{}:{}/metrics", settings.metrics_bind,
            parts->metrics_server->port());
  }
  parts->lifecycle = std::make_unique<LifecycleObserver>(settings.lifecycle, shared.root,
                                                         settings.pipeline.scrub.evict_cache,
                                                         shared.policy, parts->pipeline.observer);
  parts->pipeline.observer = parts->lifecycle.get();
  parts->runner = std::make_unique<PipelineRunner>(&parts->pipeline);
  StatusSink* sink = settings.reporter != nullptr ? settings.reporter->sink() : nullptr;
  parts->drain =
      std::make_unique<JobDrainGuard>(settings.drain, shared.root, settings.nodename, sink);

  TaskServices& s = parts->services;
  s.runner = parts->runner.get();
  s.nodename = settings.nodename;
  s.acks_late = settings.acks_late;
  s.track_started = settings.track_started;
  s.results = parts->results.get();
  s.outbox = shared.outbox;
  s.events = shared.events;
  s.reporter = settings.reporter;
  s.stopping_jobs = shared.stopping_jobs;
  s.revoked = shared.revoked;
  s.keys = settings.keys;
  if (settings.keys != nullptr) {
    parts->claims = std::make_unique<TaskClaims>(settings.keys, settings.nodename);
    s.claims = parts->claims.get();
  }
  UnstoredResults::Options unstored;
  unstored.dir = shared.root / "results";
  unstored.claims = parts->claims.get();
  parts->unstored =
      std::make_unique<UnstoredResults>(parts->results.get(), shared.outbox, unstored);
  s.unstored = parts->unstored.get();
  parts->triggers = std::make_unique<TriggerRules>(settings.triggers, shared.outbox, shared.events);
  s.triggers = parts->triggers.get();
  WorkerMetrics* metrics = parts->metrics.get();
  JobDrainGuard* drain = parts->drain.get();
  std::atomic<bool>* drained = shared.drained;
  s.job_ended = [metrics, drain, drained](const std::string& status, bool ran) {
    // A job that ran is counted as it finishes (WorkerMetrics::Finished).
    if (metrics != nullptr && (!ran || status == kJobDeduped)) metrics->JobEnded(status);
    // A payload refused before any work dir existed says nothing about this
    // node's health: it never counts towards a job drain.
    if (ran && drain->Record(status)) *drained = true;
  };
  parts->slots = std::make_unique<Slots>(
      settings.concurrency, parts->services,
      settings.autoscale_min < 0 ? settings.concurrency : settings.autoscale_min);
  parts->intake = std::make_unique<TaskIntake>(TaskIntake::Services{
      parts->results.get(), parts->unstored.get(), shared.events, shared.outbox, shared.revoked,
      parts->slots.get(), metrics, settings.limits, settings.reporter});
  return Status::OK();
}

void CleanUpEarlierLife(const WorkerSettings& settings, const std::filesystem::path& root) {
  auto report = [&settings](const Json& job, const std::string& reason) {
    if (settings.reporter == nullptr) return;
    StatusDetails details;
    details.error = reason;
    settings.reporter->Report(job, kJobFailed, details);
  };
  int orphans = 0;
  Status cleanup = RemoveOrphanContainers(settings.pipeline.containers, settings.nodename,
                                          WallClock::now(), &orphans, report);
  if (!cleanup.ok())
    LogInfo("{}: no container cleanup: {}", settings.nodename, cleanup.message());
  else if (orphans > 0)
    LogWarning("{}: removed {} containers an earlier run left", settings.nodename, orphans);
  if (int n = RecoverAbandonedJobs(root, settings.nodename, WallClock::now(), report); n > 0)
    LogWarning("{}: closed out {} job dirs an earlier run left open", settings.nodename, n);
}

}  // namespace verdi
