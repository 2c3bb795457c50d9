#include "verdi/worker/trigger_rules.h"

#include <condition_variable>
#include <memory>
#include <mutex>

#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"
#include "events/celery_event.h"
#include "jobspec/job_status.h"
#include "jobspec/uuid.h"

namespace verdi {
namespace {

// run_job(job, queue_when_finished=True): only a true value (Python's `is
// True`) queues the user rules.
bool QueueWhenFinished(const TaskMessage& parent) {
  const Json* flag = nullptr;
  if (parent.args.is_array() && parent.args.size() > 1)
    flag = &parent.args[1];
  else if (parent.kwargs.is_object() && parent.kwargs.contains("queue_when_finished"))
    flag = &parent.kwargs["queue_when_finished"];
  return flag == nullptr || (flag->is_boolean() && flag->get<bool>());
}

// The user rules of a job are queued at the end of run_job's main block:
// after a run that reached job-started, or a job-deduped.
bool EndsWithUserRules(const JobOutcome& outcome) {
  if (outcome.status == "job-deduped") return true;
  return outcome.started && (outcome.status == kJobCompleted || outcome.status == kJobFailed);
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace

TaskMessage ChildTask(const TaskMessage& parent, const std::string& name, Json args,
                      const std::string& origin, const std::string& reply_to) {
  TaskMessage task;
  task.id = NewUuid4();
  task.task = name;
  task.args = std::move(args);
  task.kwargs = Json::object();
  task.root_id = parent.root_id.empty() ? parent.id : parent.root_id;
  task.parent_id = parent.id;
  task.origin = origin;
  task.reply_to = reply_to;
  task.ignore_result = false;
  return task;
}

std::vector<TriggerTask> TriggerTasks(const TriggerSettings& settings, const TaskMessage& parent,
                                      const Json& job, const JobOutcome& outcome,
                                      const std::string& origin, const std::string& reply_to) {
  std::vector<TriggerTask> tasks;
  if (!settings.dataset_processed_queue.empty() && outcome.datasets.is_array()) {
    for (const Json& doc : outcome.datasets) {
      const Json* ipath = FindPath(doc, {"ipath"});
      if (ipath == nullptr || !ipath->is_string()) continue;
      Json submission = {{"job_type", "dataset:" + ipath->get<std::string>()}, {"payload", doc}};
      tasks.push_back({ChildTask(parent, kSubmitJobName, Json::array({std::move(submission)}),
                                 origin, reply_to),
                       settings.dataset_processed_queue});
    }
  }
  if (settings.user_rules_job_queue.empty() || !EndsWithUserRules(outcome) ||
      !QueueWhenFinished(parent))
    return tasks;
  const Json* payload_id = FindPath(job, {"job_info", "job_payload", "payload_task_id"});
  if (payload_id == nullptr || !payload_id->is_string()) return tasks;
  const Json* index = FindPath(job, {"job_info", "index"});
  Json payload = {
      {"type", "user_rules_job"},
      {"function", "hysds.user_rules_job.evaluate_user_rules_job"},
      {"args", Json::array({*payload_id})},
      {"kwargs",
       {{"index", outcome.status == kJobFailed ? Json("job_failed")
                  : index != nullptr           ? *index
                                               : Json(nullptr)}}},
  };
  tasks.push_back(
      {ChildTask(parent, kRunTaskName, Json::array({std::move(payload)}), origin, reply_to),
       settings.user_rules_job_queue});
  return tasks;
}

TriggerRules::TriggerRules(TriggerSettings settings, Outbox* outbox, EventPublisher* events)
    : settings_(std::move(settings)),
      outbox_(outbox),
      events_(events),
      origin_(fmt::format("gen{}@{}", getpid(), HostName())),
      reply_to_(NewUuid4()) {}

std::vector<std::string> TriggerRules::Send(const TaskMessage& parent, const Json& job,
                                            const JobOutcome& outcome) {
  std::vector<TriggerTask> tasks =
      TriggerTasks(settings_, parent, job, outcome, origin_, reply_to_);
  // Counts the messages the connection thread has written to the broker.
  struct Written {
    std::mutex mu;
    std::condition_variable cv;
    size_t count = 0;
  };
  auto written = std::make_shared<Written>();
  std::vector<std::string> ids;
  for (TriggerTask& t : tasks) {
    AmqpOutgoing message = EncodeTaskMessage(t.task, settings_.serializer);
    BrokerAction publish = BrokerAction::Publish("", t.queue, message);
    publish.declare_queue = t.queue;
    publish.declare_arguments = settings_.queue_arguments;
    publish.retain = true;
    publish.on_sent = [written] {
      std::lock_guard<std::mutex> lock(written->mu);
      ++written->count;
      written->cv.notify_all();
    };
    outbox_->Push(std::move(publish));
    // Celery's task-sent (HySDS sets task_send_sent_event).
    events_->Send("task-sent", {{"uuid", t.task.id},
                                {"root_id", t.task.root_id},
                                {"parent_id", t.task.parent_id},
                                {"name", t.task.task},
                                {"args", message.headers["argsrepr"]},
                                {"kwargs", message.headers["kwargsrepr"]},
                                {"retries", 0},
                                {"eta", nullptr},
                                {"expires", nullptr},
                                {"queue", t.queue},
                                {"exchange", ""},
                                {"routing_key", t.queue}});
    ids.push_back(t.task.id);
  }
  // As HySDS's task sends them before it returns: a client that sees the
  // result finds its children on their queues. A broker that is away gets
  // a bounded wait; the messages stay kept for its next connection.
  std::unique_lock<std::mutex> lock(written->mu);
  if (!written->cv.wait_for(lock, settings_.send_wait,
                            [&] { return written->count == tasks.size(); }))
    LogWarning("task {}: {} of its {} trigger rule tasks wait for the broker", parent.id,
               tasks.size() - written->count, tasks.size());
  return ids;
}

}  // namespace verdi
