// HySDS's trigger rules of a finished job: the
// messages through which HySDS chains processing steps. For each product
// the job published, dataset_ingest's queue_dataset submits a
// `dataset:<ipath>` job to the orchestrator (dataset trigger rules); once
// its final status is logged, run_job's queue_finished_job queues the job's
// user rules (job trigger rules). Both are Celery tasks sent from inside
// the run_job task, so its result lists them as its children.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "verdi/amqp/outbox.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/task_message.h"
#include "verdi/job/pipeline.h"

namespace verdi {

/// The tasks HySDS's trigger rules send.
inline constexpr const char* kRunTaskName = "hysds.task_worker.run_task";
inline constexpr const char* kSubmitJobName = "hysds.orchestrator.submit_job";

struct TriggerSettings {
  /// USER_RULES_JOB_QUEUE: where a finished job's user rules task goes;
  /// empty: none is sent.
  std::string user_rules_job_queue = "user_rules_job";
  /// DATASET_PROCESSED_QUEUE: where each published product's
  /// `dataset:<ipath>` job goes; empty: none is sent.
  std::string dataset_processed_queue = "dataset_processed";
  /// task_serializer (HySDS's celeryconfig: msgpack).
  Serializer serializer = Serializer::kMsgpack;
  /// The arguments Celery declares those queues with (x-max-priority from
  /// task_queue_max_priority, as the worker's own queues).
  Json queue_arguments = Json::object();
  /// How long Send waits for its messages to be written to the broker
  /// before the task's result is stored.
  std::chrono::milliseconds send_wait{10000};
};

/// One message to send: the task and the queue it goes to.
struct TriggerTask {
  TaskMessage task;
  std::string queue;
};

/// What a task sent from inside `parent` carries besides its name and
/// arguments, as Celery's send_task fills it: a new id, root_id (the
/// parent's root, else the parent), parent_id (the parent), `origin` (the
/// producer, "gen<pid>@<host>") and `reply_to` (the producer's oid).
TaskMessage ChildTask(const TaskMessage& parent, const std::string& name, Json args,
                      const std::string& origin, const std::string& reply_to);

/// The trigger tasks of the run_job task `parent` whose job (`job`, as run)
/// ended with `outcome`, in HySDS's order:
/// - for each document of outcome.datasets with a string ipath,
///   hysds.orchestrator.submit_job({"job_type": "dataset:<ipath>",
///   "payload": <the document>}) to dataset_processed_queue;
/// - then, when the job got as far as job-started and ended job-completed or
///   job-failed (or ended job-deduped), and run_job's queue_when_finished
///   argument (args[1], else kwargs) is absent or true, HySDS's
///   queue_finished_job: hysds.task_worker.run_task({"type":
///   "user_rules_job", "function":
///   "hysds.user_rules_job.evaluate_user_rules_job", "args": [payload_id],
///   "kwargs": {"index": job_info.index, or "job_failed" for a failed job}})
///   to user_rules_job_queue; payload_id is
///   job_info.job_payload.payload_task_id (none is sent without one).
/// An empty queue setting sends none of its kind.
std::vector<TriggerTask> TriggerTasks(const TriggerSettings& settings, const TaskMessage& parent,
                                      const Json& job, const JobOutcome& outcome,
                                      const std::string& origin, const std::string& reply_to);

/// Sends the trigger tasks through the outbox: each queue declared as Celery
/// declares it (once per connection), published to the default exchange
/// with the queue's name as routing key, persistent, and kept while the
/// broker is away; a task-sent event for each. Thread-safe.
class TriggerRules {
 public:
  TriggerRules(TriggerSettings settings, Outbox* outbox, EventPublisher* events);

  /// Sends the trigger tasks of `parent` (TriggerTasks), waits (up to
  /// send_wait) until the connection thread has written them to the broker,
  /// and returns their ids in the order sent: the run_job result's children.
  std::vector<std::string> Send(const TaskMessage& parent, const Json& job,
                                const JobOutcome& outcome);

 private:
  const TriggerSettings settings_;
  Outbox* outbox_;
  EventPublisher* events_;
  std::string origin_, reply_to_;
};

}  // namespace verdi
