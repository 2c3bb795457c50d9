// What a worker is made of besides its broker connection, assembled once
// from its settings: the result backend, the observers its jobs report to,
// the job runner, the job slots and the task intake. And the clean-up of
// what an earlier life of the same worker left behind.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>

#include "verdi/amqp/outbox.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/revoked_set.h"
#include "verdi/celery/task_results.h"
#include "verdi/metrics/server.h"
#include "verdi/worker/job_runner.h"
#include "verdi/worker/lifecycle.h"
#include "verdi/worker/metrics.h"
#include "verdi/worker/run_job_task.h"
#include "verdi/worker/slots.h"
#include "verdi/worker/task_intake.h"
#include "verdi/worker/unstored_results.h"
#include "verdi/worker/worker.h"

namespace verdi {

/// Owned by the worker; members are destroyed bottom up, so the slots'
/// threads are joined before what they use goes.
struct WorkerParts {
  std::unique_ptr<TaskResults> results;
  std::unique_ptr<WorkerMetrics> metrics;  // with --metrics-port
  std::unique_ptr<MetricsServer> metrics_server;
  std::unique_ptr<LifecycleObserver> lifecycle;
  /// settings.pipeline with the worker's observers, innermost first: the
  /// pipeline's own (HySDS statuses), the metrics, the lifecycle (the group,
  /// the work root bound, infrastructure errors).
  PipelineSettings pipeline;
  std::unique_ptr<PipelineRunner> runner;
  std::unique_ptr<JobDrainGuard> drain;
  std::unique_ptr<TaskClaims> claims;  // with a status Redis
  /// Terminal results the backend would not take, their messages unacked
  /// (and their claims held) until they are stored (`<root>/results/`).
  std::unique_ptr<UnstoredResults> unstored;
  std::unique_ptr<TriggerRules> triggers;
  TaskServices services;
  std::unique_ptr<Slots> slots;
  std::unique_ptr<TaskIntake> intake;
};

/// What the connection thread shares with the parts it assembles.
struct WorkerShared {
  std::filesystem::path root;
  Outbox* outbox = nullptr;
  EventPublisher* events = nullptr;
  const RevokedSet* revoked = nullptr;
  ExitPolicy* policy = nullptr;
  /// True once the worker stops its running jobs for a shutdown.
  std::function<bool()> stopping_jobs;
  /// Set by a job slot when the job-drain guard trips.
  std::atomic<bool>* drained = nullptr;
};

/// Builds every part; Invalid or IOError (a bad result backend URL, a
/// metrics port in use) before any job slot starts.
Status AssembleWorker(const WorkerSettings& settings, const WorkerShared& shared,
                      WorkerParts* parts);

/// An earlier life of this worker (killed with SIGKILL, or the machine went
/// down) may have left containers and open job dirs: each is removed or
/// closed out, and its job reported job-failed.
void CleanUpEarlierLife(const WorkerSettings& settings, const std::filesystem::path& root);

}  // namespace verdi
