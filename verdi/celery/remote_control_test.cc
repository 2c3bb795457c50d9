#include "verdi/celery/remote_control.h"

#include <csignal>

#include <gtest/gtest.h>

#include "verdi/celery/task_message.h"

namespace verdi {
namespace {

const char* kNode = "celery@host1";

Json Command(const std::string& method, Json arguments = Json::object()) {
  return {{"method", method},
          {"arguments", std::move(arguments)},
          {"destination", nullptr},
          {"pattern", nullptr},
          {"matcher", nullptr},
          {"ticket", "t-1"},
          {"reply_to", {{"exchange", "reply.celery.pidbox"}, {"routing_key", "c-1"}}}};
}

WorkerSnapshot Worker() {
  WorkerSnapshot w;
  w.nodename = kNode;
  w.pid = 4242;
  w.uptime_seconds = 17;
  w.processed = 3;
  w.concurrency = 2;
  w.prefetch_count = 2;
  w.clock = 99;
  w.broker = {{"hostname", "localhost"}, {"port", 5672}};
  ControlTask running;
  running.id = "run-1";
  running.name = "hysds.job_worker.run_job";
  running.args = Json::array({{{"job_id", "j"}}});
  running.time_start = 1700000000.5;
  running.exchange = "";
  running.routing_key = "q";
  running.worker_pid = 4242;
  w.active.push_back(running);
  ControlTask queued = running;
  queued.id = "queued-1";
  queued.time_start.reset();
  w.reserved.push_back(queued);
  ControlTask held = queued;
  held.id = "eta-1";
  held.eta = "2030-01-01T00:00:00+00:00";
  w.scheduled.push_back(held);
  w.revoked = {{"gone-1", 12345.5}, {"gone-2", 12346.0}};
  w.queues.push_back({"q", Json::object()});
  return w;
}

Json ReplyOf(const Json& command, const WorkerSnapshot& w = Worker()) {
  ControlDecision d = HandleControl(command, w);
  EXPECT_TRUE(d.addressed);
  EXPECT_TRUE(d.reply) << command.dump();
  return d.reply ? d.reply_body.at(kNode) : Json(nullptr);
}

TEST(RemoteControl, BrokerInfoIsKombusWithoutThePassword) {
  AmqpUrl url;
  ASSERT_TRUE(ParseAmqpUrl("amqps://bob:s3cret@mq.example:5671/jobs", &url).ok());
  Json info = BrokerInfo(url);
  EXPECT_EQ(info["hostname"], "mq.example");
  EXPECT_EQ(info["userid"], "bob");
  EXPECT_EQ(info["virtual_host"], "jobs");
  EXPECT_EQ(info["port"], 5671);
  EXPECT_EQ(info["ssl"], true);
  EXPECT_EQ(info["transport"], "amqp");
  EXPECT_TRUE(info["heartbeat"].is_number_float());  // kombu's is a float: 60.0
  EXPECT_EQ(info["heartbeat"], 60.0);
  EXPECT_TRUE(info["connect_timeout"].is_number_integer());
  EXPECT_EQ(info.dump().find("s3cret"), std::string::npos) << info.dump();
}

TEST(RemoteControl, PidboxQueueName) {
  EXPECT_EQ(PidboxQueueName(kNode), "celery@host1.celery.pidbox");
}

TEST(RemoteControl, Addressing) {
  Json c = Command("ping");
  EXPECT_TRUE(IsAddressed(c, kNode));
  c["destination"] = Json::array({"other@x"});
  EXPECT_FALSE(IsAddressed(c, kNode));
  EXPECT_FALSE(HandleControl(c, Worker()).addressed);
  c["destination"] = Json::array({"other@x", kNode});
  EXPECT_TRUE(IsAddressed(c, kNode));
  c["destination"] = Json::array();
  EXPECT_TRUE(IsAddressed(c, kNode));
  c["pattern"] = "celery@host*";
  c["matcher"] = "glob";
  EXPECT_TRUE(IsAddressed(c, kNode));
  c["pattern"] = "worker@*";
  EXPECT_FALSE(IsAddressed(c, kNode));
  c["pattern"] = "celery@h[a-z]st?";
  EXPECT_TRUE(IsAddressed(c, kNode));
  c["matcher"] = "pcre";
  c["pattern"] = "celery@.*1";
  EXPECT_TRUE(IsAddressed(c, kNode));
  c["pattern"] = "host1";  // re.match anchors at the start
  EXPECT_FALSE(IsAddressed(c, kNode));
  c["pattern"] = "(bad";
  EXPECT_FALSE(IsAddressed(c, kNode));
}

TEST(RemoteControl, Glob) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
  EXPECT_TRUE(GlobMatch("[!x]y", "zy"));
  EXPECT_FALSE(GlobMatch("[!x]y", "xy"));
  EXPECT_TRUE(GlobMatch("a[", "a["));
}

TEST(RemoteControl, PingAndReplyEnvelope) {
  ControlDecision d = HandleControl(Command("ping"), Worker());
  ASSERT_TRUE(d.reply);
  EXPECT_EQ(d.reply_body, Json({{kNode, {{"ok", "pong"}}}}));
  Json no_reply = Command("ping");
  no_reply.erase("reply_to");
  d = HandleControl(no_reply, Worker());
  EXPECT_TRUE(d.addressed);
  EXPECT_FALSE(d.reply);
}

TEST(RemoteControl, UnknownMethod) {
  EXPECT_EQ(ReplyOf(Command("foo")), Json({{"error", "KeyError('foo')"}}));
}

TEST(RemoteControl, Stats) {
  Json s = ReplyOf(Command("stats"));
  EXPECT_EQ(s["total"], Json({{"hysds.job_worker.run_job", 3}}));
  EXPECT_EQ(s["pid"], 4242);
  EXPECT_EQ(s["clock"], "99");
  EXPECT_EQ(s["uptime"], 17);
  EXPECT_EQ(s["pool"]["implementation"], "verdi");
  EXPECT_EQ(s["pool"]["max-concurrency"], 2);
  EXPECT_EQ(s["pool"]["processes"], Json::array({4242}));
  EXPECT_EQ(s["pool"]["max-tasks-per-child"], "N/A");
  EXPECT_EQ(s["pool"]["put-guarded-by-semaphore"], false);
  EXPECT_EQ(s["pool"]["timeouts"], Json::array({0, 0}));
  EXPECT_EQ(s["broker"]["hostname"], "localhost");
  EXPECT_FALSE(s["pool"].contains("writes"));  // prefork's only; Python's solo pool has none
  EXPECT_EQ(s["prefetch_count"], 2);
  EXPECT_TRUE(s.contains("rusage"));
  WorkerSnapshot idle = Worker();
  idle.processed = 0;
  EXPECT_EQ(ReplyOf(Command("stats"), idle)["total"], Json::object());
}

TEST(RemoteControl, RusageFields) {
  Json r = CurrentRusage();
  for (const char* key : {"utime", "stime", "maxrss", "minflt", "nvcsw", "nivcsw"})
    EXPECT_TRUE(r.contains(key)) << key;
}

TEST(RemoteControl, ActiveReservedScheduled) {
  Json active = ReplyOf(Command("active"));
  ASSERT_EQ(active.size(), 1u);
  const Json& a = active[0];
  EXPECT_EQ(a["id"], "run-1");
  EXPECT_EQ(a["name"], "hysds.job_worker.run_job");
  EXPECT_EQ(a["type"], "hysds.job_worker.run_job");
  EXPECT_EQ(a["hostname"], kNode);
  EXPECT_EQ(a["time_start"], 1700000000.5);
  EXPECT_EQ(a["acknowledged"], false);
  EXPECT_EQ(a["args"], Json::array({{{"job_id", "j"}}}));
  EXPECT_EQ(a["kwargs"], Json::object());
  EXPECT_EQ(
      a["delivery_info"],
      Json({{"exchange", ""}, {"routing_key", "q"}, {"priority", 0}, {"redelivered", false}}));
  EXPECT_EQ(a["worker_pid"], 4242);
  Json reserved = ReplyOf(Command("reserved"));
  ASSERT_EQ(reserved.size(), 1u);
  EXPECT_EQ(reserved[0]["id"], "queued-1");
  EXPECT_TRUE(reserved[0]["time_start"].is_null());
  Json scheduled = ReplyOf(Command("scheduled"));
  ASSERT_EQ(scheduled.size(), 1u);
  EXPECT_EQ(scheduled[0]["eta"], "2030-01-01T00:00:00+00:00");
  EXPECT_EQ(scheduled[0]["priority"], 6);
  EXPECT_EQ(scheduled[0]["request"]["id"], "eta-1");
}

TEST(RemoteControl, SimpleInspections) {
  EXPECT_EQ(ReplyOf(Command("registered")),
            Json::array({"hysds.job_worker.run_job", "verdi.noop"}));
  EXPECT_EQ(ReplyOf(Command("revoked")), Json::array({"gone-1", "gone-2"}));
  EXPECT_EQ(ReplyOf(Command("clock")), Json({{"clock", 99}}));
  EXPECT_TRUE(ReplyOf(Command("report"))["ok"].is_string());
  EXPECT_TRUE(ReplyOf(Command("conf")).is_object());
}

TEST(RemoteControl, ActiveQueues) {
  WorkerSnapshot w = Worker();
  w.queues.push_back({"prio", {{"x-max-priority", 10}}});
  Json queues = ReplyOf(Command("active_queues"), w);
  ASSERT_EQ(queues.size(), 2u);
  const Json& q = queues[0];
  EXPECT_EQ(q["name"], "q");
  EXPECT_EQ(q["routing_key"], "q");
  EXPECT_EQ(q["exchange"]["name"], "q");
  EXPECT_EQ(q["exchange"]["type"], "direct");
  EXPECT_EQ(q["durable"], true);
  EXPECT_EQ(q["exclusive"], false);
  EXPECT_EQ(q["auto_delete"], false);
  EXPECT_EQ(q["no_ack"], false);
  EXPECT_TRUE(q["alias"].is_null());
  EXPECT_TRUE(q["queue_arguments"].is_null());
  EXPECT_TRUE(q["binding_arguments"].is_null());
  EXPECT_EQ(queues[1]["queue_arguments"], Json({{"x-max-priority", 10}}));
  EXPECT_EQ(queues[1]["max_priority"], 10);
}

TEST(RemoteControl, QueryTask) {
  Json r = ReplyOf(Command("query_task", {{"ids", Json::array({"run-1", "queued-1", "nope"})}}));
  EXPECT_EQ(r["run-1"][0], "active");
  EXPECT_EQ(r["run-1"][1]["id"], "run-1");
  EXPECT_EQ(r["queued-1"][0], "reserved");
  EXPECT_FALSE(r.contains("nope"));
  EXPECT_TRUE(ReplyOf(Command("query_task", {{"ids", "run-1"}}))["run-1"].is_array());
}

TEST(RemoteControl, Hello) {
  // Mingle: Celery's LimitedSet.update refuses a time that is not a float
  // ("Expecting float timestamp"), 12346.0 included.
  Json r = ReplyOf(Command("hello", {{"from_node", "other@x"}, {"revoked", Json::object()}}));
  EXPECT_EQ(r["clock"], 99);
  EXPECT_EQ(r["revoked"], Json::parse(R"({"gone-1": [12345.5, "gone-1"],
                                          "gone-2": [12346.0, "gone-2"]})"));
  EXPECT_TRUE(r["revoked"]["gone-2"][0].is_number_float());
  EXPECT_EQ(PyJsonDumps(r["revoked"]["gone-2"]), "[12346.0, \"gone-2\"]");
  ControlDecision d = HandleControl(Command("hello", {{"from_node", kNode}}), Worker());
  EXPECT_TRUE(d.addressed);
  EXPECT_FALSE(d.reply);
}

TEST(RemoteControl, HelloTakesTheSendersRevokedIds) {
  // What a Python worker's mingle sends: its LimitedSet._data.
  ControlDecision d = HandleControl(
      Command("hello",
              {{"from_node", "py@x"}, {"revoked", {{"r-1", {5.5, "r-1"}}, {"r-2", {6.5, "r-2"}}}}}),
      Worker());
  EXPECT_TRUE(d.reply);
  EXPECT_EQ(d.effects.revoke, (std::vector<std::string>{"r-1", "r-2"}));
  EXPECT_EQ(d.effects.terminate_signal, 0);
  d = HandleControl(Command("hello", {{"from_node", "py@x"}, {"revoked", {"r-3"}}}), Worker());
  EXPECT_EQ(d.effects.revoke, std::vector<std::string>{"r-3"});
  d = HandleControl(Command("hello", {{"from_node", "py@x"}}), Worker());
  EXPECT_TRUE(d.effects.revoke.empty());
}

// Python's heartbeat returns None, which a caller asking for replies gets;
// shutdown raises before any reply.
TEST(RemoteControl, HeartbeatRepliesNullAndShutdownDoesNotReply) {
  ControlDecision d = HandleControl(Command("heartbeat"), Worker());
  ASSERT_TRUE(d.reply);
  EXPECT_EQ(d.reply_body, Json({{kNode, nullptr}}));
  EXPECT_TRUE(d.effects.heartbeat);
  Json no_reply = Command("heartbeat");
  no_reply.erase("reply_to");
  EXPECT_FALSE(HandleControl(no_reply, Worker()).reply);
  d = HandleControl(Command("shutdown", {{"msg", "bye"}}), Worker());
  EXPECT_FALSE(d.reply);
  EXPECT_TRUE(d.effects.shutdown);
}

TEST(RemoteControl, EnableDisableEvents) {
  WorkerSnapshot w = Worker();
  w.task_events = false;
  ControlDecision d = HandleControl(Command("enable_events"), w);
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "task events enabled"}}));
  EXPECT_EQ(d.effects.task_events, true);
  EXPECT_EQ(ReplyOf(Command("disable_events"), w), Json({{"ok", "task events already disabled"}}));
  w.task_events = true;
  EXPECT_EQ(ReplyOf(Command("enable_events"), w), Json({{"ok", "task events already enabled"}}));
  d = HandleControl(Command("disable_events"), w);
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "task events disabled"}}));
  EXPECT_EQ(d.effects.task_events, false);
}

TEST(RemoteControl, Revoke) {
  ControlDecision d = HandleControl(Command("revoke", {{"task_id", "a"}}), Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "tasks a flagged as revoked"}}));
  EXPECT_EQ(d.effects.revoke, std::vector<std::string>({"a"}));
  EXPECT_EQ(d.effects.terminate_signal, 0);

  d = HandleControl(Command("revoke", {{"task_id", Json::array({"a", "b", "a"})},
                                       {"terminate", false},
                                       {"signal", "SIGTERM"}}),
                    Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "tasks a, b flagged as revoked"}}));
  EXPECT_EQ(d.effects.revoke, std::vector<std::string>({"a", "b"}));

  d = HandleControl(Command("revoke", {{"task_id", "a"}, {"terminate", true}}), Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "terminate: tasks unknown"}}));
  EXPECT_EQ(d.effects.terminate_signal, SIGTERM);

  d = HandleControl(
      Command("revoke",
              {{"task_id", Json::array({"run-1", "x"})}, {"terminate", true}, {"signal", "KILL"}}),
      Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "terminate: run-1"}}));
  EXPECT_EQ(d.effects.terminate_signal, SIGKILL);

  d = HandleControl(Command("terminate", {{"task_id", "run-1"}, {"signal", 2}}), Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "terminate: run-1"}}));
  EXPECT_EQ(d.effects.terminate_signal, SIGINT);

  d = HandleControl(
      Command("revoke", {{"task_id", "run-1"}, {"terminate", true}, {"signal", "term"}}), Worker());
  EXPECT_EQ(d.reply_body[kNode],
            Json({{"error", "TypeError('signal name must be uppercase string.')"}}));
  EXPECT_TRUE(d.effects.revoke.empty());
}

TEST(RemoteControl, ParseSignal) {
  int sig = 0;
  ASSERT_TRUE(ParseSignal(Json("SIGTERM"), &sig).ok());
  EXPECT_EQ(sig, SIGTERM);
  ASSERT_TRUE(ParseSignal(Json("USR1"), &sig).ok());
  EXPECT_EQ(sig, SIGUSR1);
  ASSERT_TRUE(ParseSignal(Json(9), &sig).ok());
  EXPECT_EQ(sig, 9);
  Status st = ParseSignal(Json("SIGFOO"), &sig);
  EXPECT_EQ(st.message(), "AttributeError(\"module 'signal' has no attribute 'SIGFOO'\")");
  EXPECT_FALSE(ParseSignal(Json("sigterm"), &sig).ok());
  EXPECT_FALSE(ParseSignal(Json(nullptr), &sig).ok());
}

TEST(RemoteControl, Consumers) {
  ControlDecision d = HandleControl(Command("add_consumer", {{"queue", "extra"}}), Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "add consumer extra"}}));
  EXPECT_EQ(d.effects.add_consumer, "extra");
  d = HandleControl(Command("cancel_consumer", {{"queue", "q"}}), Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "no longer consuming from q"}}));
  EXPECT_EQ(d.effects.cancel_consumer, "q");
}

TEST(RemoteControl, Limits) {
  EXPECT_EQ(ReplyOf(Command("time_limit", {{"task_name", "x"}, {"soft", 1}})),
            Json({{"error", "unknown task"}}));
  EXPECT_EQ(ReplyOf(Command("rate_limit", {{"task_name", "x"}, {"rate_limit", "1/s"}})),
            Json({{"error", "unknown task"}}));
  EXPECT_TRUE(ReplyOf(Command("time_limit", {{"task_name", "hysds.job_worker.run_job"}}))
                  .contains("error"));
  EXPECT_TRUE(ReplyOf(Command("rate_limit", {{"task_name", "hysds.job_worker.run_job"}}))
                  .contains("error"));
}

// pool_grow and pool_shrink as Celery 5's worker answers them, the new
// size in the effects; never below one slot nor above the most.
TEST(RemoteControl, PoolGrowAndShrink) {
  ControlDecision d = HandleControl(Command("pool_grow", {{"n", 3}}), Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "pool will grow"}}));
  EXPECT_EQ(d.effects.pool_size, 5);
  d = HandleControl(Command("pool_grow"), Worker());  // n=1 by default
  EXPECT_EQ(d.effects.pool_size, 3);
  d = HandleControl(Command("pool_shrink", {{"n", 1}}), Worker());
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "pool will shrink"}}));
  EXPECT_EQ(d.effects.pool_size, 1);

  d = HandleControl(Command("pool_shrink", {{"n", 2}}), Worker());
  EXPECT_EQ(d.reply_body[kNode],
            Json({{"error",
                   "pool_shrink: the pool has 2 job slot(s) and keeps at least 1 (shut the worker "
                   "down instead)"}}));
  EXPECT_FALSE(d.effects.pool_size);
  d = HandleControl(Command("pool_grow", {{"n", 5000}}), Worker());
  EXPECT_EQ(d.reply_body[kNode],
            Json({{"error", "pool_grow: the pool has 2 job slot(s) and may have at most 1024"}}));
  EXPECT_FALSE(d.effects.pool_size);
  for (Json bad : {Json("2"), Json(-1), Json(1.5)}) {
    d = HandleControl(Command("pool_grow", {{"n", bad}}), Worker());
    EXPECT_EQ(d.reply_body[kNode],
              Json({{"error", "ValueError('pool_grow: n must be a whole number of job slots')"}}))
        << bad;
    EXPECT_FALSE(d.effects.pool_size);
  }

  WorkerSnapshot scaled = Worker();
  scaled.autoscale = AutoscaleRange{4, 1};
  d = HandleControl(Command("pool_grow", {{"n", 1}}), scaled);
  EXPECT_EQ(d.reply_body[kNode],
            Json({{"error",
                   "pool_grow is not supported with autoscale. Adjust autoscale range instead."}}));
  EXPECT_FALSE(d.effects.pool_size);
  d = HandleControl(Command("pool_shrink"), scaled);
  EXPECT_EQ(d.reply_body[kNode],
            Json({{"error",
                   "pool_shrink is not supported with autoscale. Adjust autoscale range "
                   "instead."}}));
}

TEST(RemoteControl, Autoscale) {
  EXPECT_EQ(ReplyOf(Command("autoscale", {{"max", 4}, {"min", 1}})),
            Json({{"error", "ValueError('Autoscale not enabled')"}}));
  WorkerSnapshot w = Worker();
  w.autoscale = AutoscaleRange{4, 1};
  ControlDecision d = HandleControl(Command("autoscale", {{"max", 6}, {"min", 2}}), w);
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "autoscale now max=6 min=2"}}));
  ASSERT_TRUE(d.effects.autoscale);
  EXPECT_EQ(d.effects.autoscale->max, 6);
  EXPECT_EQ(d.effects.autoscale->min, 2);
  // Either bound may be left out (None): it stays.
  d = HandleControl(Command("autoscale", {{"max", 8}, {"min", nullptr}}), w);
  EXPECT_EQ(d.reply_body[kNode], Json({{"ok", "autoscale now max=8 min=1"}}));
  d = HandleControl(Command("autoscale", {{"max", 2}, {"min", 3}}), w);
  EXPECT_EQ(d.reply_body[kNode], Json({{"error",
                                        "ValueError('autoscale: expected 0 <= min <= max, 1 <= max "
                                        "<= 1024; got max=2 min=3')"}}));
  EXPECT_FALSE(d.effects.autoscale);
}

// stats says the pool's size now; with autoscale its range as Celery's
// Autoscaler.info() does.
TEST(RemoteControl, StatsFollowThePool) {
  WorkerSnapshot w = Worker();
  w.concurrency = 5;
  Json s = ReplyOf(Command("stats"), w);
  EXPECT_EQ(s["pool"]["max-concurrency"], 5);
  EXPECT_FALSE(s.contains("autoscaler"));
  w.concurrency = 2;
  w.autoscale = AutoscaleRange{6, 1};
  w.busy = 3;
  s = ReplyOf(Command("stats"), w);
  EXPECT_EQ(s["pool"]["max-concurrency"], 6);
  EXPECT_EQ(s["autoscaler"], Json({{"max", 6}, {"min", 1}, {"current", 2}, {"qty", 3}}));
}

// The rest of Celery's worker commands: an error saying why, never
// KeyError; Celery's older names of the inspect commands answer as the new.
TEST(RemoteControl, CeleryCommandsVerdiDoesNotCarryOut) {
  for (const char* method : {"pool_restart", "memsample", "memdump", "objgraph", "election"}) {
    ControlDecision d = HandleControl(Command(method), Worker());
    ASSERT_TRUE(d.reply) << method;
    std::string error = d.reply_body[kNode].value("error", "");
    EXPECT_EQ(error.rfind(std::string(method) + " is not supported by verdi: ", 0), 0u) << error;
    EXPECT_EQ(d.effects.pool_size, std::nullopt);
  }
  for (auto [alias, name] :
       {std::pair{"dump_conf", "conf"}, std::pair{"dump_schedule", "scheduled"},
        std::pair{"dump_reserved", "reserved"}, std::pair{"dump_active", "active"},
        std::pair{"dump_revoked", "revoked"}, std::pair{"dump_tasks", "registered"}})
    EXPECT_EQ(ReplyOf(Command(alias)), ReplyOf(Command(name))) << alias;
}

}  // namespace
}  // namespace verdi
