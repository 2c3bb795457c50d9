// What `verdi monitor` shows, built from Celery's monitoring events: the
// workers (alive by the heartbeat-expiry rule), their active tasks, their
// processed and failed counts, the last failures, and HySDS status counts.
// Pure: no I/O; every call takes the current time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "jobspec/json_field.h"

namespace verdi {

/// One task as the events describe it.
struct MonitorTask {
  std::string uuid, name, hostname;
  /// RECEIVED, STARTED, SUCCESS, FAILURE, REVOKED or REJECTED.
  std::string state;
  /// job_id read from the args repr of task-received ("" when absent).
  std::string job_id;
  /// Event timestamps (UNIX seconds; 0 when not seen).
  double received = 0, started = 0, finished = 0;
  double runtime = 0;  // task-succeeded's runtime
  std::string exception;
};

/// One worker (node name).
struct MonitorWorker {
  std::string hostname;
  /// Local time (the `now` of Feed) of the last sign of life; 0: never.
  double last_heartbeat = 0;
  double freq = 2.0;
  bool offline = false;  // said worker-offline since its last sign of life
  /// From its last worker event.
  int64_t active = 0, processed = 0;
  /// Counted from the task events seen by this monitor.
  int64_t succeeded = 0, failed = 0, finished = 0;
  std::string sw_ident, sw_ver;

  /// Celery's rule: now < last_heartbeat + freq × 2 (and no worker-offline).
  bool Alive(double now) const;
};

/// One failed task, for the "last failures" list.
struct MonitorFailure {
  std::string uuid, name, hostname, job_id;
  double timestamp = 0;
  std::string exception;    // the repr, e.g. "WorkerExecutionError('Got ...')"
  std::string error;        // the message inside the repr
  std::string short_error;  // HySDS's ShortError(error)
};

/// The message of a Python exception repr: "E('msg')" → "msg" (quotes and
/// backslash escapes undone); anything else is returned as it is.
std::string ExceptionMessage(const std::string& repr);

class MonitorState {
 public:
  /// Keeps the last `max_failures` failures and at most `max_tasks` tasks
  /// (the oldest finished ones are forgotten first).
  explicit MonitorState(size_t max_failures = 10, size_t max_tasks = 5000);

  /// One decoded event body: an event map or a list of them (task.multi).
  /// Events without a string `type` or `hostname` are ignored.
  void Feed(const Json& body, double now);

  /// HySDS status counts read from the hysds-job-status-* keys.
  void SetJobStatusCounts(std::map<std::string, int64_t> counts, bool known = true);

  const std::map<std::string, MonitorWorker>& workers() const { return workers_; }
  const std::map<std::string, MonitorTask>& tasks() const { return tasks_; }
  /// Newest first.
  const std::deque<MonitorFailure>& failures() const { return failures_; }

  /// {"time", "workers": [{hostname, alive, last_heartbeat, heartbeat_age,
  /// freq, active, processed, succeeded, failed, active_tasks: [{uuid, name,
  /// job_id, state, started, elapsed}]}], "tasks": [{uuid, name, job_id,
  /// hostname, state, ...}], "failures": [...], "job_statuses": {...} (only
  /// when SetJobStatusCounts was called)}.
  Json ToJson(double now) const;
  /// A plain text table (no terminal codes).
  std::string RenderText(double now) const;

 private:
  void FeedOne(const Json& event, double now);
  MonitorWorker& WorkerOf(const std::string& hostname);
  std::vector<const MonitorTask*> ActiveTasks(const std::string& hostname) const;
  void Prune();

  size_t max_failures_, max_tasks_;
  std::map<std::string, MonitorWorker> workers_;
  std::map<std::string, MonitorTask> tasks_;
  std::deque<MonitorFailure> failures_;
  std::map<std::string, int64_t> job_statuses_;
  bool job_statuses_known_ = false;
};

}  // namespace verdi
