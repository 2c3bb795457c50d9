// Fakes for the worker's unit tests: a job runner that runs nothing, a
// result backend in memory, and a harness that reads back what a task did
// through the outbox (acks, rejects, events), so the worker's decisions
// around a job are tested in milliseconds without a broker.
#pragma once

#include <atomic>
#include <cerrno>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "verdi/amqp/outbox.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/revoked_set.h"
#include "verdi/celery/task_results.h"
#include "verdi/worker/job_runner.h"
#include "verdi/worker/run_job_task.h"

namespace verdi::worker_testing {

/// Keeps what is stored; while `refuse` is set, every Store fails as a
/// result backend that is down would, after its retries.
class FakeResults : public TaskResults {
 public:
  Status Store(const TaskMessage& task, const std::string& state, const Json& result,
               const Json& traceback) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (refuse) {
      ++refused;
      return Status::IOError("redis 127.0.0.1:1: connection refused (test)", ECONNREFUSED);
    }
    stored.push_back({task.id, state, result, traceback, task.children});
    states[task.id] = state;
    return Status::OK();
  }
  std::atomic<bool> refuse{false};
  std::atomic<int> refused{0};
  std::string StoredState(const std::string& task_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states.find(task_id);
    return it == states.end() ? "" : it->second;
  }
  struct Stored {
    std::string id, state;
    Json result, traceback;
    std::vector<std::string> children;
  };
  std::vector<Stored> stored;
  std::map<std::string, std::string> states;
  /// `stored`, read while another thread may store.
  std::vector<Stored> StoredSoFar() {
    std::lock_guard<std::mutex> lock(mu_);
    return stored;
  }

 private:
  std::mutex mu_;
};

/// Returns `outcome` for every payload (prepared unless `refuse`), after
/// calling `during` (e.g. to revoke the task while "it runs").
class FakeRunner : public JobRunner {
 public:
  JobRun Run(Json payload, Interrupts*) override {
    payloads.push_back(payload);
    if (during) during();
    JobRun run;
    run.prepared = !refuse;
    run.job = payload;
    run.outcome = outcome;
    return run;
  }
  JobOutcome outcome{"job-completed"};
  bool refuse = false;
  std::function<void()> during;
  std::vector<Json> payloads;
};

/// What went through the outbox, in order.
struct Sent {
  std::vector<std::string> acts;  // "ack 7", "reject 7 requeue", "reject 7"
  std::vector<Json> events;       // each event's body, with its "type"
  const Json* Event(const std::string& type) const {
    for (const auto& e : events)
      if (e.value("type", "") == type) return &e;
    return nullptr;
  }
};

inline Sent Drain(Outbox* outbox) {
  Sent sent;
  for (const auto& a : outbox->TakeAll()) {
    switch (a.kind) {
      case BrokerAction::Kind::kAck:
        sent.acts.push_back("ack " + std::to_string(a.delivery_tag));
        break;
      case BrokerAction::Kind::kReject:
        sent.acts.push_back("reject " + std::to_string(a.delivery_tag) +
                            (a.requeue ? " requeue" : ""));
        break;
      case BrokerAction::Kind::kPublish:
        sent.events.push_back(Json::parse(a.message.body));
        break;
    }
  }
  return sent;
}

/// A run_job task for `job_id`.
inline TaskMessage RunJob(const std::string& id) {
  TaskMessage task;
  task.id = id;
  task.task = kRunJobTaskName;
  task.args = Json::array({{{"job_id", "job-" + id}, {"type", "t"}, {"params", Json::object()}}});
  return task;
}

/// Everything a task needs, wired to the fakes.
struct Harness {
  Harness() {
    services.runner = &runner;
    services.nodename = "celery@test";
    services.results = &results;
    services.outbox = &outbox;
    services.events = &events;
    services.revoked = &revoked;
    services.stopping_jobs = [this] { return stopping; };
    services.job_ended = [this](const std::string& status, bool ran) {
      ended.push_back(status + (ran ? "" : " (refused)"));
    };
  }
  FakeRunner runner;
  FakeResults results;
  Outbox outbox;
  EventPublisher events{{"celery@test", 1}, &outbox, true};
  RevokedSet revoked;
  bool stopping = false;
  std::vector<std::string> ended;
  TaskServices services;
};

}  // namespace verdi::worker_testing
