#include "verdi/worker/control.h"

#include "base/log.h"
#include "base/redact.h"

namespace verdi {
namespace {

// A string field of an untrusted object, or `fallback`.
std::string StringField(const Json& object, const char* key, const std::string& fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A task as remote control's active/reserved/scheduled lists show it.
ControlTask ControlInfo(const Work& work, bool acknowledged, int pid) {
  ControlTask t;
  t.id = work.task.id;
  t.name = work.task.task;
  t.args = work.task.args;
  t.kwargs = work.task.kwargs;
  t.acknowledged = acknowledged;
  t.exchange = work.delivery.exchange;
  t.routing_key = work.delivery.routing_key;
  t.priority = work.delivery.priority;
  t.redelivered = work.delivery.redelivered;
  t.worker_pid = pid;
  if (work.task.eta) t.eta = FormatIsoTime(*work.task.eta);
  return t;
}

}  // namespace

void Pidbox::Consume(AmqpLink* link) {
  tag_.clear();
  std::string queue = PidboxQueueName(nodename_);
  Status st = link->DeclareExchange(kPidboxExchange, "fanout", false, false);
  if (st.ok())
    st = link->DeclareBoundQueue(queue, kPidboxExchange, "", false, true, true,
                                 {{"x-expires", 10000}, {"x-message-ttl", 300000}});
  if (st.ok()) st = link->DeclareExchange(kReplyExchange, "direct", false, false);
  if (st.ok()) st = link->Consume(queue, &tag_, /*no_ack=*/true);
  if (!st.ok() && link->connected()) {
    tag_.clear();
    LogWarning("{}: remote control disabled: {}", nodename_, st.message());
  }
}

std::optional<ControlEffects> Pidbox::Handle(const AmqpDelivery& delivery,
                                             const std::function<WorkerSnapshot()>& snapshot,
                                             EventPublisher* events, AmqpLink* link) {
  Json body;
  auto compression = delivery.headers.find("compression");
  Status st = DecodeMessageBody(delivery.content_type,
                                compression == delivery.headers.end() ? nullptr : &*compression,
                                delivery.body, limits_, &body);
  if (!st.ok() || !body.is_object()) {
    LogWarning("remote control: ignored a bad command: {}", st.ok() ? "not a map" : st.message());
    return std::nullopt;
  }
  auto clock = delivery.headers.find("clock");
  if (clock != delivery.headers.end() && clock->is_number_integer())
    events->clock().Adjust(clock->get<int64_t>());
  ControlDecision d = HandleControl(body, snapshot());
  if (!d.addressed) return std::nullopt;
  LogInfo("remote control: {}", StringField(body, "method", "?"));
  if (d.reply) {
    const Json& to = body["reply_to"];
    AmqpOutgoing reply;
    reply.body = Serialize(serializer_, d.reply_body);
    reply.content_type = ContentTypeOf(serializer_);
    reply.content_encoding = ContentEncodingOf(serializer_);
    reply.delivery_mode = 1;
    reply.headers = {{"ticket", StringField(body, "ticket", "")},
                     {"clock", events->clock().Forward()}};
    st = link->Publish(StringField(to, "exchange", kReplyExchange),
                       StringField(to, "routing_key", ""), reply);
    if (!st.ok()) LogWarning("remote control: reply failed: {}", st.message());
  }
  return d.effects;
}

WorkerSnapshot TakeSnapshot(const SnapshotSources& in) {
  WorkerSnapshot w;
  int pid = static_cast<int>(getpid());
  w.nodename = in.settings->nodename;
  w.pid = pid;
  w.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now() - in.started)
                         .count();
  w.processed = in.parts->intake->processed();
  w.concurrency = in.parts->slots->active();
  w.autoscale = in.autoscale;
  w.busy = static_cast<int64_t>(in.parts->slots->Busy());
  w.prefetch_count = in.prefetch;
  w.clock = in.events->clock().value();
  w.task_events = in.events->task_events();
  w.broker = BrokerInfo(*in.url);
  w.rusage = CurrentRusage();
  w.conf = {{"broker_url", RedactUrls(in.settings->broker_url)},
            {"result_backend", RedactUrls(in.settings->result_backend)},
            {"result_expires", in.settings->result_expires},
            {"worker_concurrency", in.settings->concurrency},
            {"worker_prefetch_multiplier", in.settings->prefetch_multiplier},
            {"task_acks_late", in.settings->acks_late},
            {"task_track_started", in.settings->track_started},
            {"worker_send_task_events", in.events->task_events()},
            {"worker_pool", "verdi"}};
  std::vector<std::pair<Work, double>> active;
  std::vector<Work> queued;
  in.parts->slots->Snapshot(&active, &queued);
  for (const auto& [work, started] : active) {
    w.active.push_back(ControlInfo(work, !in.settings->acks_late, pid));
    w.active.back().time_start = started;
  }
  for (const auto& work : queued)
    w.reserved.push_back(ControlInfo(work, !in.settings->acks_late, pid));
  for (const auto& [when, work] : in.parts->intake->held())
    w.scheduled.push_back(ControlInfo(work, false, pid));
  w.revoked = in.revoked->List();
  w.queues = in.consumers->Active();
  return w;
}

}  // namespace verdi
