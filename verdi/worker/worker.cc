#include "verdi/worker/worker.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "base/log.h"
#include "jobspec/job_status.h"
#include "verdi/amqp/outbox.h"
#include "verdi/celery/event_publisher.h"
#include "verdi/celery/remote_control.h"
#include "verdi/celery/revoked_set.h"
#include "verdi/celery/task_message.h"
#include "verdi/celery/task_results.h"
#include "verdi/container/engine.h"
#include "verdi/metrics/server.h"
#include "verdi/workdir/recovery.h"
#include "verdi/workdir/size_bound.h"
#include "verdi/worker/echo.h"
#include "verdi/worker/metrics.h"
#include "verdi/worker/run_job_task.h"
#include "verdi/worker/slots.h"

namespace verdi {
namespace {

using Clock = std::chrono::steady_clock;

class Worker {
 public:
  Worker(const WorkerSettings& settings, Interrupts* signals)
      : settings_(settings),
        signals_(signals),
        events_({settings.nodename, static_cast<int>(getpid())}, &outbox_, settings.task_events),
        policy_(settings.lifecycle.exit) {}

  int Run() {
    Status st = ParseAmqpUrl(settings_.broker_url, &url_);
    if (st.ok())
      st = MakeTaskResults(settings_.result_backend, settings_.result_expires, &outbox_, &results_);
    if (!st.ok()) {
      LogError("{}", st.message());
      return 2;
    }
    env_.pipeline = &settings_.pipeline;
    env_.nodename = settings_.nodename;
    env_.acks_late = settings_.acks_late;
    env_.track_started = settings_.track_started;
    env_.results = results_.get();
    env_.outbox = &outbox_;
    env_.events = &events_;
    env_.reporter = settings_.reporter;
    env_.shutting_down = &shutting_down_;
    env_.revoked = &revoked_;
    env_.keys = settings_.keys;
    queues_ = settings_.queues;
    fs::path root = settings_.pipeline.root_work_dir.value_or("/data/work");
    drain_ = std::make_unique<JobDrainGuard>(
        settings_.drain, root, settings_.nodename,
        settings_.reporter != nullptr ? settings_.reporter->sink() : nullptr);
    env_.job_ended = [this](const std::string& status) {
      if (metrics_) metrics_->JobEnded(status);
      if (drain_->Record(status)) drained_ = true;
    };
    if (settings_.metrics_port != 0) {
      // Job durations are seen by wrapping the pipeline's observer.
      metrics_ =
          std::make_unique<WorkerMetrics>(settings_.concurrency, settings_.pipeline.observer);
      pipeline_ = settings_.pipeline;
      pipeline_.observer = metrics_.get();
      env_.pipeline = &pipeline_;
      st = MetricsServer::Start(settings_.metrics_bind, settings_.metrics_port,
                                &metrics_->registry(), &metrics_server_);
      if (!st.ok()) {
        LogError("{}", st.message());
        return 2;
      }
      LogInfo("metrics on http://{}:{}/metrics", settings_.metrics_bind, metrics_server_->port());
    }
    // Outermost observer: the group, the work root bound, infrastructure errors.
    lifecycle_ = std::make_unique<LifecycleObserver>(settings_.lifecycle, root,
                                                     settings_.pipeline.scrub.evict_cache, &policy_,
                                                     env_.pipeline->observer);
    pipeline_ = *env_.pipeline;
    pipeline_.observer = lifecycle_.get();
    env_.pipeline = &pipeline_;
    // An earlier life of this worker may have left containers and open job
    // dirs (killed with SIGKILL, or the machine went down): clean up first.
    int orphans = 0;
    auto report = [this](const Json& job, const std::string& reason) {
      if (settings_.reporter == nullptr) return;
      StatusDetails details;
      details.error = reason;
      settings_.reporter->Report(job, kJobFailed, details);
    };
    Status cleanup = RemoveOrphanContainers(settings_.pipeline.containers, settings_.nodename,
                                            WallClock::now(), &orphans, report);
    if (!cleanup.ok())
      LogInfo("{}: no container cleanup: {}", settings_.nodename, cleanup.message());
    else if (orphans > 0)
      LogWarning("{}: removed {} containers an earlier run left", settings_.nodename, orphans);
    if (int n = RecoverAbandonedJobs(root, settings_.nodename, WallClock::now()); n > 0)
      LogWarning("{}: closed out {} job dirs an earlier run left open", settings_.nodename, n);
    lifecycle_->BoundWorkRoot();
    slots_ = std::make_unique<Slots>(settings_.concurrency, env_);
    LogInfo("{} ready: {} job slots, queues {}, broker {}", settings_.nodename,
            settings_.concurrency, QueueNames(), RedactUrl(settings_.broker_url));

    while (!Finished()) {
      if (!link_.connected() && !shutting_down_) Connect();
      Wait();
      HandleSignals();
      CheckDrain();
      CheckLifecycle();
      Flush();
      Receive();
      ReleaseDueEtas();
      CheckShutdownDeadline();
      Heartbeat();
      if (metrics_)
        metrics_->Update(slots_->Busy(),
                         settings_.reporter != nullptr ? settings_.reporter->sink() : nullptr);
    }
    slots_.reset();  // joins the slot threads: every job has closed out
    events_.Send("worker-offline", WorkerFields());
    Flush();
    link_.Close();
    if (settings_.lifecycle.delete_work_dir_on_exit) {
      Status deleted = DeleteWorkRoot(root);
      if (deleted.ok())
        LogInfo("{}: work root {} deleted (--delete-work-dir-on-exit)", settings_.nodename,
                root.string());
      else
        LogError("{}: {}", settings_.nodename, deleted.message());
    }
    LogInfo("{} stopped", settings_.nodename);
    if (drained_) return kJobDrainExitCode;
    return policy_.StopReason() ? kInfrastructureErrorExitCode : 0;
  }

 private:
  std::string QueueNames() const {
    std::string names;
    for (const auto& q : settings_.queues) names += (names.empty() ? "" : ",") + q.name;
    return names;
  }

  uint16_t Prefetch() const {
    if (settings_.prefetch_multiplier <= 0) return 0;
    size_t count =
        static_cast<size_t>(settings_.concurrency) * settings_.prefetch_multiplier + held_.size();
    return static_cast<uint16_t>(std::min<size_t>(count, 65535));
  }

  // Connects, declares and consumes; on failure waits (backoff) for the next
  // attempt while still answering signals and flushing nothing.
  void Connect() {
    if (Clock::now() < next_attempt_) return;
    Status st = link_.Connect(url_, settings_.broker_tls);
    for (size_t i = 0; st.ok() && i < queues_.size(); ++i) {
      bool passive = false;
      st = link_.DeclareQueue(queues_[i], &passive);
    }
    if (st.ok()) st = link_.DeclareExchange(kEventExchange, "topic", true, false);
    if (st.ok()) st = link_.SetPrefetch(Prefetch());
    consumer_tags_.clear();
    for (size_t i = 0; st.ok() && i < queues_.size(); ++i) {
      std::string tag;
      st = link_.Consume(queues_[i].name, &tag);
      consumer_tags_.push_back(tag);
    }
    if (st.ok()) ConsumePidbox();
    if (st.ok()) {
      ++connection_;
      policy_.Connected(Clock::now());
      backoff_ = std::chrono::milliseconds(0);
      held_.clear();  // unacked ETA tasks come back from the broker
      LogInfo("connected to {}", RedactUrl(settings_.broker_url));
      events_.Send("worker-online", WorkerFields());
      next_heartbeat_ = Clock::now() + settings_.heartbeat_interval;
      return;
    }
    link_.Close();
    backoff_ = std::clamp(backoff_ * 2, settings_.reconnect_min, settings_.reconnect_max);
    next_attempt_ = Clock::now() + backoff_;
    // The message names the broker (its URL redacted) already.
    LogWarning("broker: {}; next attempt in {} ms", st.message(), backoff_.count());
    if (policy_.ConnectFailed(st.message())) LogError("--exit-on-exception: the broker is gone");
  }

  // Sleeps until the broker, a slot or a signal has something, or the next
  // timer (ETA, reconnect, shutdown deadline, heartbeat upkeep).
  void Wait() {
    auto timeout = std::chrono::milliseconds(250);
    auto until = [&](Clock::time_point t) {
      auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
      timeout = std::clamp(d, std::chrono::milliseconds(0), timeout);
    };
    if (!held_.empty()) until(held_.begin()->first);
    if (link_.connected()) until(next_heartbeat_);
    if (!link_.connected()) until(next_attempt_);
    if (link_.connected() && link_.HasBufferedData()) timeout = std::chrono::milliseconds(0);
    pollfd fds[3] = {{outbox_.fd(), POLLIN, 0}, {signals_->fd(), POLLIN, 0}, {-1, POLLIN, 0}};
    if (link_.connected()) fds[2].fd = link_.fd();
    poll(fds, 3, static_cast<int>(timeout.count()));
  }

  void HandleSignals() {
    while (int sig = signals_->Take()) {
      if (settings_.lifecycle.pass_down_termination && sig != SIGQUIT) {
        LogWarning("{}: --pass-down-termination: signal {} goes to the running jobs",
                   settings_.nodename, sig);
        ColdShutdown(sig);
      } else if ((!shutting_down_ || retiring_) && sig != SIGQUIT) {
        retiring_ = false;
        WarmShutdown(fmt::format("signal {}", sig));
      } else {
        ColdShutdown(sig);
      }
    }
  }

  void WarmShutdown(const std::string& why) {
    LogWarning("{}: warm shutdown ({}): no new jobs; running jobs have {} s to finish",
               settings_.nodename, why, settings_.shutdown_timeout.count());
    shutting_down_ = true;
    deadline_ = Clock::now() + settings_.shutdown_timeout;
    StopConsuming();
  }

  // §6.6: after a job drain, no more jobs; those not started go back.
  void CheckDrain() {
    if (!drained_ || drain_handled_) return;
    drain_handled_ = true;
    if (!shutting_down_) WarmShutdown("job drain detected");
    for (auto& work : slots_->TakeQueued()) Requeue(work.delivery);
  }

  // The lifecycle's reasons to stop (exit_policy.h): an infrastructure
  // error, idleness. Running jobs finish first.
  void CheckLifecycle() {
    if (settings_.lifecycle.exit.exit_on_exception) {
      if (results_->failures() > 0)
        policy_.InfrastructureError("results could not be stored in the result backend");
      if (settings_.reporter != nullptr && settings_.reporter->sink()->stats().dropped > 0)
        policy_.InfrastructureError("statuses were dropped: the status Redis is gone");
      if (auto why = policy_.StopReason(); why && (!shutting_down_ || retiring_)) {
        retiring_ = false;
        return WarmShutdown("--exit-on-exception: " + *why);
      }
    }
    if (shutting_down_ || !settings_.lifecycle.exit.idle) return;
    if (policy_.IdleLongEnough(slots_->Busy() + held_.size(), Clock::now()))
      Retire(fmt::format("no job for {} s (--exit-when-idle)",
                         settings_.lifecycle.exit.idle->count() / 1000.0));
  }

  // Stops taking jobs and exits once the running ones have ended, however
  // long they take (a later signal makes it a warm shutdown).
  void Retire(const std::string& why) {
    LogInfo("{}: {}: no new jobs; exiting when the running ones end", settings_.nodename, why);
    shutting_down_ = true;
    retiring_ = true;
    deadline_ = Clock::time_point::max();
    StopConsuming();
  }

  // --echo: the message is shown and acked; nothing runs.
  void Echo(const AmqpDelivery& delivery) {
    Json described = DescribeDelivery(delivery, settings_.limits);
    LogInfo("echo: {}", described.dump(-1, ' ', false, Json::error_handler_t::replace));
    link_.Ack(delivery.delivery_tag);
    policy_.Touch(Clock::now());
  }

  void StopConsuming() {
    if (link_.connected())
      for (const auto& tag : consumer_tags_)
        if (!tag.empty()) link_.Cancel(tag);
    consumer_tags_.clear();
    // ETA tasks held unacked go back to the queue for another worker.
    for (auto& [when, work] : held_) Requeue(work.delivery);
    held_.clear();
  }

  void ColdShutdown(int sig) {
    if (cold_) return;
    LogWarning("{}: cold shutdown (signal {}): stopping running jobs; they are requeued",
               settings_.nodename, sig);
    shutting_down_ = true;
    cold_ = true;
    StopConsuming();
    for (auto& work : slots_->StopAll(SIGTERM)) Requeue(work.delivery);
  }

  void CheckShutdownDeadline() {
    if (shutting_down_ && !cold_ && Clock::now() >= deadline_ && slots_->Busy() > 0)
      ColdShutdown(SIGTERM);
  }

  bool Finished() { return shutting_down_ && slots_->Busy() == 0; }

  void Requeue(const TaskDelivery& delivery) {
    if (link_.connected() && delivery.connection == connection_) link_.Reject(delivery.tag, true);
  }

  // Acks, rejects and publishes the slots asked for.
  void Flush() {
    for (auto& action : outbox_.TakeAll()) {
      if (!link_.connected()) {
        if (action.exchange != kEventExchange)  // monitoring events are not worth a line each
          LogWarning("broker connection lost: {} dropped", Describe(action));
        continue;
      }
      if (action.kind != BrokerAction::Kind::kPublish && action.connection != connection_) {
        // Its delivery belonged to a lost connection: the broker redelivers
        // it, and the stored result makes the redelivered copy a no-op.
        continue;
      }
      Status st;
      switch (action.kind) {
        case BrokerAction::Kind::kAck:
          st = link_.Ack(action.delivery_tag);
          break;
        case BrokerAction::Kind::kReject:
          st = link_.Reject(action.delivery_tag, action.requeue);
          break;
        case BrokerAction::Kind::kPublish:
          st = link_.Publish(action.exchange, action.routing_key, action.message);
          break;
      }
      if (!st.ok()) LogWarning("broker: {} failed: {}", Describe(action), st.message());
    }
  }

  static std::string Describe(const BrokerAction& action) {
    switch (action.kind) {
      case BrokerAction::Kind::kAck:
        return fmt::format("ack of delivery {}", action.delivery_tag);
      case BrokerAction::Kind::kReject:
        return fmt::format("reject of delivery {}", action.delivery_tag);
      case BrokerAction::Kind::kPublish:
        return "publish to " + action.routing_key;
    }
    return "?";
  }

  void Receive() {
    if (!link_.connected()) return;
    for (;;) {
      AmqpDelivery delivery;
      bool got = false;
      Status st = link_.Poll(std::chrono::milliseconds(0), &delivery, &got);
      if (!st.ok()) {
        LogWarning("broker connection lost: {}; running jobs go on", st.message());
        link_.Close();
        return;
      }
      if (!got) return;
      if (!pidbox_tag_.empty() && delivery.consumer_tag == pidbox_tag_)
        Control(delivery);
      else
        Accept(std::move(delivery));
    }
  }

  // Decides what to do with one delivery: reject, revoke, hold or run.
  void Accept(AmqpDelivery delivery) {
    TaskDelivery from{delivery.delivery_tag, connection_,          delivery.redelivered,
                      delivery.exchange,     delivery.routing_key, delivery.priority};
    if (settings_.lifecycle.echo) return shutting_down_ ? Requeue(from) : Echo(delivery);
    TaskMessage task;
    Status st = DecodeTaskMessage(delivery, settings_.limits, &task);
    if (st.ok() && task.task != kRunJobTaskName) {
      LogWarning("task {}: unknown task \"{}\": rejected (NotRegistered)", task.id, task.task);
      results_->Store(task, "FAILURE",
                      ExceptionResult("NotRegistered", "celery.exceptions", task.task));
      link_.Reject(from.tag, false);
      return;
    }
    if (st.ok()) st = CheckRunJobArguments(task);
    if (!st.ok()) {
      LogWarning("rejected message {} (task {}): {}", from.tag, task.id.empty() ? "?" : task.id,
                 st.message());
      if (!task.id.empty() && !task.task.empty())
        results_->Store(task, "FAILURE",
                        ExceptionResult("WorkerExecutionError", "hysds.job_worker",
                                        "rejected: " + st.message()));
      if (!task.id.empty()) events_.Send("task-rejected", {{"uuid", task.id}, {"requeue", false}});
      link_.Reject(from.tag, false);
      return;
    }
    if (shutting_down_) return Requeue(from);
    if (revoked_.Contains(task.id)) {
      LogWarning("task {}: revoked: not run", task.id);
      AnnounceRevoked(task);
      link_.Ack(from.tag);
      return;
    }
    ++processed_;
    events_.Send("task-received", ReceivedFields(task));
    WallClock::time_point now = WallClock::now();
    if (metrics_) metrics_->Received(task, now);
    if (task.expires && *task.expires <= now) {
      LogWarning("task {}: expired at {}: revoked, not run", task.id, IsoUtc(*task.expires));
      results_->Store(task, "REVOKED",
                      ExceptionResult("TaskRevokedError", "celery.exceptions", "expired"));
      link_.Ack(from.tag);
      return;
    }
    if (task.eta && *task.eta > now) {
      auto wait = std::chrono::duration_cast<Clock::duration>(*task.eta - now);
      LogInfo("task {}: held until its ETA {}", task.id, IsoUtc(*task.eta));
      held_.emplace(Clock::now() + wait, Work{std::move(task), from});
      link_.SetPrefetch(Prefetch());  // the held task must not block others
      return;
    }
    if (from.redelivered && slots_->Adopt(task.id, from)) {
      // The broker gave back a task that still runs here (its first delivery
      // was on a connection since lost): one run, acked on this delivery.
      LogWarning("task {}: redelivered while it runs here: not run twice", task.id);
      return;
    }
    slots_->Submit(Work{std::move(task), from});
    if (policy_.RunTaken())
      Retire(
          fmt::format("took {} jobs (--exit-after-num-runs)", settings_.lifecycle.exit.max_runs));
  }

  void ReleaseDueEtas() {
    bool released = false;
    while (!held_.empty() && held_.begin()->first <= Clock::now()) {
      auto node = held_.extract(held_.begin());
      Work& work = node.mapped();
      if (revoked_.Contains(work.task.id)) {
        AnnounceRevoked(work.task);
        if (link_.connected()) link_.Ack(work.delivery.tag);
      } else if (work.task.expires && *work.task.expires <= WallClock::now()) {
        results_->Store(work.task, "REVOKED",
                        ExceptionResult("TaskRevokedError", "celery.exceptions", "expired"));
        events_.Send("task-revoked", Revoked(work.task.id));
        if (link_.connected()) link_.Ack(work.delivery.tag);
      } else {
        slots_->Submit(std::move(work));
        if (policy_.RunTaken()) Retire("took its jobs (--exit-after-num-runs)");
      }
      released = true;
    }
    if (released && link_.connected()) link_.SetPrefetch(Prefetch());
  }

  // -- remote control (pidbox, celery-protocol.md §6) --------------------------

  // Declares and consumes this node's pidbox queue. A failure (e.g. another
  // worker with the same node name holds the exclusive queue) is logged: the
  // worker runs on without remote control.
  void ConsumePidbox() {
    pidbox_tag_.clear();
    std::string queue = PidboxQueueName(settings_.nodename);
    Status st = link_.DeclareExchange(kPidboxExchange, "fanout", false, false);
    if (st.ok())
      st = link_.DeclareBoundQueue(queue, kPidboxExchange, "", false, true, true,
                                   {{"x-expires", 10000}, {"x-message-ttl", 300000}});
    if (st.ok()) st = link_.DeclareExchange(kReplyExchange, "direct", false, false);
    if (st.ok()) st = link_.Consume(queue, &pidbox_tag_, /*no_ack=*/true);
    if (!st.ok() && link_.connected()) {
      pidbox_tag_.clear();
      LogWarning("{}: remote control disabled: {}", settings_.nodename, st.message());
    }
  }

  void AnnounceRevoked(const TaskMessage& task) {
    results_->Store(task, "REVOKED",
                    ExceptionResult("TaskRevokedError", "celery.exceptions", "revoked"));
    events_.Send(
        "task-revoked",
        {{"uuid", task.id}, {"terminated", false}, {"signum", nullptr}, {"expired", false}});
  }

  static ControlTask ControlInfo(const Work& work, bool acked, int pid) {
    ControlTask t;
    t.id = work.task.id;
    t.name = work.task.task;
    t.args = work.task.args;
    t.kwargs = work.task.kwargs;
    t.acknowledged = acked;
    t.exchange = work.delivery.exchange;
    t.routing_key = work.delivery.routing_key;
    t.priority = work.delivery.priority;
    t.redelivered = work.delivery.redelivered;
    t.worker_pid = pid;
    if (work.task.eta) t.eta = FormatIsoTime(*work.task.eta);
    return t;
  }

  WorkerSnapshot Snapshot() {
    WorkerSnapshot w;
    int pid = static_cast<int>(getpid());
    w.nodename = settings_.nodename;
    w.pid = pid;
    w.uptime_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_).count();
    w.processed = processed_;
    w.concurrency = settings_.concurrency;
    w.prefetch_count = Prefetch();
    w.clock = events_.clock().value();
    w.task_events = events_.task_events();
    w.broker = BrokerInfo(url_);
    w.rusage = CurrentRusage();
    w.conf = {{"broker_url", RedactUrl(settings_.broker_url)},
              {"result_backend", RedactUrl(settings_.result_backend)},
              {"result_expires", settings_.result_expires},
              {"worker_concurrency", settings_.concurrency},
              {"worker_prefetch_multiplier", settings_.prefetch_multiplier},
              {"task_acks_late", settings_.acks_late},
              {"task_track_started", settings_.track_started},
              {"worker_send_task_events", events_.task_events()},
              {"worker_pool", "verdi"}};
    std::vector<std::pair<Work, double>> active;
    std::vector<Work> queued;
    slots_->Snapshot(&active, &queued);
    for (const auto& [work, started] : active) {
      w.active.push_back(ControlInfo(work, !settings_.acks_late, pid));
      w.active.back().time_start = started;
    }
    for (const auto& work : queued)
      w.reserved.push_back(ControlInfo(work, !settings_.acks_late, pid));
    for (const auto& [when, work] : held_) w.scheduled.push_back(ControlInfo(work, false, pid));
    w.revoked = revoked_.List();
    for (size_t i = 0; i < queues_.size(); ++i)
      if (i < consumer_tags_.size() && !consumer_tags_[i].empty())
        w.queues.push_back({queues_[i].name, queues_[i].arguments});
    return w;
  }

  // One command from the pidbox (consumed without acks).
  void Control(const AmqpDelivery& delivery) {
    Json body;
    auto compression = delivery.headers.find("compression");
    Status st = DecodeMessageBody(delivery.content_type,
                                  compression == delivery.headers.end() ? nullptr : &*compression,
                                  delivery.body, settings_.limits, &body);
    if (!st.ok() || !body.is_object()) {
      LogWarning("remote control: ignored a bad command: {}", st.ok() ? "not a map" : st.message());
      return;
    }
    auto clock = delivery.headers.find("clock");
    if (clock != delivery.headers.end() && clock->is_number_integer())
      events_.clock().Adjust(clock->get<int64_t>());
    ControlDecision d = HandleControl(body, Snapshot());
    if (!d.addressed) return;
    LogInfo("remote control: {}", body.value("method", "?"));
    if (d.reply) {
      const Json& to = body["reply_to"];
      AmqpOutgoing reply;
      reply.body = PyJsonDumps(d.reply_body);
      reply.content_type = "application/json";
      reply.content_encoding = "utf-8";
      reply.delivery_mode = 1;
      reply.headers = {{"ticket", body.value("ticket", "")}, {"clock", events_.clock().Forward()}};
      st = link_.Publish(to.value("exchange", kReplyExchange), to.value("routing_key", ""), reply);
      if (!st.ok()) LogWarning("remote control: reply failed: {}", st.message());
    }
    Apply(d.effects);
  }

  void Apply(const ControlEffects& e) {
    for (const auto& id : e.revoke) {
      revoked_.Add(id);
      if (e.terminate_signal != 0 && slots_->Signal(id, e.terminate_signal))
        LogWarning("task {}: revoked: terminating its job (signal {})", id, e.terminate_signal);
    }
    if (!e.revoke.empty()) {
      // Held ETA tasks that are now revoked end at once.
      for (auto it = held_.begin(); it != held_.end();) {
        if (!revoked_.Contains(it->second.task.id)) {
          ++it;
          continue;
        }
        AnnounceRevoked(it->second.task);
        if (link_.connected()) link_.Ack(it->second.delivery.tag);
        it = held_.erase(it);
      }
    }
    if (e.task_events) events_.set_task_events(*e.task_events);
    if (e.heartbeat)
      events_.Send("worker-heartbeat",
                   WorkerEventFields(5.0, static_cast<int64_t>(slots_->Busy()), processed_));
    if (!e.add_consumer.empty()) AddConsumer(e.add_consumer);
    if (!e.cancel_consumer.empty()) CancelConsumer(e.cancel_consumer);
    if (e.shutdown && !shutting_down_) WarmShutdown("remote control shutdown");
  }

  void AddConsumer(const std::string& name) {
    if (shutting_down_) return;
    for (size_t i = 0; i < queues_.size(); ++i)
      if (queues_[i].name == name && i < consumer_tags_.size() && !consumer_tags_[i].empty())
        return;
    QueueSpec spec{name};
    bool passive = false;
    std::string tag;
    Status st = link_.DeclareQueue(spec, &passive);
    if (st.ok()) st = link_.Consume(name, &tag);
    if (!st.ok()) return LogWarning("add_consumer {}: {}", name, st.message());
    consumer_tags_.resize(queues_.size());
    for (size_t i = 0; i < queues_.size(); ++i)
      if (queues_[i].name == name) {
        consumer_tags_[i] = tag;
        return;
      }
    queues_.push_back(spec);
    consumer_tags_.push_back(tag);
  }

  void CancelConsumer(const std::string& name) {
    for (size_t i = 0; i < queues_.size() && i < consumer_tags_.size(); ++i)
      if (queues_[i].name == name && !consumer_tags_[i].empty()) {
        link_.Cancel(consumer_tags_[i]);
        consumer_tags_[i].clear();
      }
  }

  Json WorkerFields() {
    return WorkerEventFields(std::chrono::duration<double>(settings_.heartbeat_interval).count(),
                             static_cast<int64_t>(slots_ ? slots_->Busy() : 0), processed_);
  }

  void Heartbeat() {
    if (!link_.connected() || Clock::now() < next_heartbeat_) return;
    events_.Send("worker-heartbeat", WorkerFields());
    next_heartbeat_ = Clock::now() + settings_.heartbeat_interval;
  }

  static Json ReceivedFields(const TaskMessage& task) {
    auto iso = [](const std::optional<WallClock::time_point>& t) {
      return t ? Json(FormatIsoTime(*t)) : Json(nullptr);
    };
    return {{"uuid", task.id},
            {"name", task.task},
            {"args", PythonRepr(task.args)},
            {"kwargs", PythonRepr(task.kwargs)},
            {"root_id", task.root_id.empty() ? Json(task.id) : Json(task.root_id)},
            {"parent_id", task.parent_id.empty() ? Json(nullptr) : Json(task.parent_id)},
            {"retries", task.retries},
            {"eta", iso(task.eta)},
            {"expires", iso(task.expires)}};
  }

  static Json Revoked(const std::string& id) {
    return {{"uuid", id}, {"terminated", false}, {"signum", nullptr}, {"expired", true}};
  }

  const WorkerSettings& settings_;
  Interrupts* signals_;
  Outbox outbox_;
  EventPublisher events_;
  int64_t processed_ = 0;
  Clock::time_point next_heartbeat_;
  AmqpUrl url_;
  AmqpLink link_;
  uint64_t connection_ = 0;
  std::vector<QueueSpec> queues_;           // -Q, plus add_consumer
  std::vector<std::string> consumer_tags_;  // one per queues_ entry; "" when cancelled
  std::string pidbox_tag_;
  RevokedSet revoked_;
  Clock::time_point started_ = Clock::now();
  std::unique_ptr<TaskResults> results_;
  ExitPolicy policy_;
  bool retiring_ = false;  // stopping by the lifecycle's choice, with no deadline
  std::unique_ptr<LifecycleObserver> lifecycle_;
  std::unique_ptr<WorkerMetrics> metrics_;  // with --metrics-port
  std::unique_ptr<MetricsServer> metrics_server_;
  PipelineSettings pipeline_;  // settings_.pipeline with lifecycle_ (and metrics_) as observers
  TaskEnv env_;
  std::unique_ptr<Slots> slots_;
  std::multimap<Clock::time_point, Work> held_;
  std::atomic<bool> shutting_down_{false};
  std::unique_ptr<JobDrainGuard> drain_;
  std::atomic<bool> drained_{false};  // set by a job slot
  bool drain_handled_ = false;
  bool cold_ = false;
  Clock::time_point deadline_;
  Clock::time_point next_attempt_;
  std::chrono::milliseconds backoff_{0};
};

}  // namespace

int RunWorker(const WorkerSettings& settings, Interrupts* signals) {
  return Worker(settings, signals).Run();
}

}  // namespace verdi
