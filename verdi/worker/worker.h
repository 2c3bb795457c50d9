// `verdi worker`: consumes Celery task messages from RabbitMQ and runs each
// run_job in one of N job slots (DESIGN.md, "Concurrency and failure").
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "verdi/amqp/link.h"
#include "verdi/amqp/url.h"
#include "verdi/celery/result_document.h"
#include "verdi/celery/task_message.h"
#include "verdi/job/pipeline.h"
#include "verdi/job/status_reporter.h"
#include "verdi/process/interrupts.h"
#include "verdi/worker/drain_guard.h"
#include "verdi/worker/hysds_keys.h"
#include "verdi/worker/lifecycle.h"
#include "verdi/worker/trigger_rules.h"

namespace verdi {

struct WorkerSettings {
  std::string broker_url = "amqp://guest:guest@localhost:5672//";
  AmqpTls broker_tls;
  /// "" (none), redis://, rediss://, rpc://.
  std::string result_backend;
  int64_t result_expires = 86400;
  /// result_serializer and result_accept_content.
  ResultFormat results;
  /// task_serializer: remote-control replies (Celery's mailbox serializer).
  Serializer task_serializer = Serializer::kJson;
  std::vector<QueueSpec> queues;
  /// Job slots; with autoscale_min the most there may be.
  int concurrency = 1;
  /// Celery's --autoscale MAX,MIN: when not negative, only this many slots
  /// take work at first; more when tasks wait (up to concurrency), fewer
  /// again (not below it) after autoscale_keepalive with less to do.
  int autoscale_min = -1;
  std::chrono::milliseconds autoscale_keepalive{30000};
  /// basic.qos = concurrency × multiplier; 0: no limit.
  int prefetch_multiplier = 1;
  bool acks_late = true;
  bool track_started = true;
  /// Celery's -E: task-* events (worker-* events and heartbeats are always sent).
  bool task_events = true;
  /// worker-heartbeat events every heartbeat_interval; Celery's
  /// --without-heartbeat: none (worker-online and worker-offline still go).
  bool send_heartbeats = true;
  std::chrono::milliseconds heartbeat_interval{2000};
  /// The node name, e.g. "celery@host".
  std::string nodename;
  /// Warm shutdown: how long running jobs may go on before they are stopped
  /// and requeued.
  std::chrono::seconds shutdown_timeout{600};
  /// Reconnect backoff: first delay, doubled up to the cap.
  std::chrono::milliseconds reconnect_min{200}, reconnect_max{30000};
  DecodeLimits limits;
  PipelineSettings pipeline;
  /// HySDS statuses outside job runs (job-deduped, job-revoked); may be null.
  StatusReporter* reporter = nullptr;
  /// hysds-revoked-task-<id> / hysds-task-worker-<id> on the status Redis;
  /// may be null.
  HysdsKeys* keys = nullptr;
  /// Job-drain protection: past it, a warm shutdown and exit code 3.
  JobDrainSettings drain;
  /// Prometheus metrics on http://<metrics_bind>:<metrics_port>/metrics; 0: none.
  uint16_t metrics_port = 0;
  std::string metrics_bind = "0.0.0.0";
  /// Self-exit rules, work root bound, pass-down termination, echo, group.
  LifecycleSettings lifecycle;
  /// HySDS's trigger rules: the queues of dataset:<ipath> jobs and user
  /// rules tasks, their serializer and queue arguments.
  TriggerSettings triggers;
};

/// RunWorker's exit code after job-drain protection stopped the worker.
inline constexpr int kJobDrainExitCode = 3;
// kInfrastructureErrorExitCode (4, exit_policy.h): after --exit-on-exception.

/// Runs the worker on the calling thread (the connection thread) until a
/// shutdown: SIGHUP from `signals` reopens the log file (ReopenLogFile) and
/// nothing more; the first SIGTERM/SIGINT is a warm
/// shutdown (stop consuming, let jobs finish up to shutdown_timeout, then
/// stop them and requeue them), a second one or SIGQUIT a cold one (stop the
/// jobs at once and requeue them); with pass_down_termination the first is
/// cold too. It also stops by itself as settings.lifecycle says (idle, runs,
/// infrastructure error). Returns the process exit code: 0, kJobDrainExitCode
/// after a job drain, kInfrastructureErrorExitCode after
/// --exit-on-exception.
int RunWorker(const WorkerSettings& settings, Interrupts* signals);

}  // namespace verdi
