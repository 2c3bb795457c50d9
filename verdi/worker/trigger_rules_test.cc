// HySDS's trigger rules as messages, by value: which tasks a finished job
// sends, with what arguments, to which queue; and how they are handed to
// the connection thread.
#include "verdi/worker/trigger_rules.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "verdi/celery/task_message_testing.h"

namespace verdi {
namespace {

TaskMessage Parent() {
  TaskMessage t;
  t.id = "run-job-task";
  t.task = kRunJobTaskName;
  t.root_id = "orchestrator-task";
  t.args = Json::array({Json::object()});
  return t;
}

Json Job() {
  return {{"job_id", "j1"},
          {"job_info",
           {{"index", "job_status-2024.01.02"},
            {"job_payload", {{"job_type", "job:t"}, {"payload_task_id", "payload-1"}}}}}};
}

JobOutcome Completed(Json datasets = Json::array()) {
  JobOutcome o;
  o.status = "job-completed";
  o.started = true;
  o.datasets = std::move(datasets);
  return o;
}

Json UserRules(const Json& index) {
  return Json::array({{{"type", "user_rules_job"},
                       {"function", "hysds.user_rules_job.evaluate_user_rules_job"},
                       {"args", Json::array({"payload-1"})},
                       {"kwargs", {{"index", index}}}}});
}

TEST(TriggerRulesTest, DatasetJobsThenTheUserRulesAsHySDSQueuesThem) {
  Json a = {{"id", "prod-a"}, {"ipath", "hysds::data/a"}, {"urls", Json::array()}};
  Json b = {{"id", "prod-b"}, {"ipath", "hysds::data/b"}};
  auto tasks = TriggerTasks({}, Parent(), Job(), Completed({a, b}), "gen1@h", "oid");
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].task.task, "hysds.orchestrator.submit_job");
  EXPECT_EQ(tasks[0].queue, "dataset_processed");
  EXPECT_EQ(tasks[0].task.args,
            Json::array({{{"job_type", "dataset:hysds::data/a"}, {"payload", a}}}));
  EXPECT_EQ(tasks[1].task.args,
            Json::array({{{"job_type", "dataset:hysds::data/b"}, {"payload", b}}}));
  EXPECT_EQ(tasks[2].task.task, "hysds.task_worker.run_task");
  EXPECT_EQ(tasks[2].queue, "user_rules_job");
  EXPECT_EQ(tasks[2].task.args, UserRules("job_status-2024.01.02"));
  for (const auto& t : tasks) {
    EXPECT_EQ(t.task.kwargs, Json::object());
    EXPECT_EQ(t.task.parent_id, "run-job-task");
    EXPECT_EQ(t.task.root_id, "orchestrator-task");
    EXPECT_EQ(t.task.origin, "gen1@h");
    EXPECT_EQ(t.task.reply_to, "oid");
    EXPECT_EQ(t.task.id.size(), 36u);
  }
  EXPECT_NE(tasks[0].task.id, tasks[1].task.id);
}

TEST(TriggerRulesTest, AFailedJobsUserRulesLookInJobFailed) {
  JobOutcome failed = Completed();
  failed.status = "job-failed";
  auto tasks = TriggerTasks({}, Parent(), Job(), failed, "o", "r");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].task.args, UserRules("job_failed"));
  Json no_index = Job();
  no_index["job_info"].erase("index");
  tasks = TriggerTasks({}, Parent(), no_index, Completed(), "o", "r");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].task.args, UserRules(nullptr));
}

TEST(TriggerRulesTest, NoUserRulesWhereHySDSsRunJobQueuesNone) {
  // Ended before job-started (HySDS's fail_job paths raise before the end).
  JobOutcome early;
  early.status = "job-failed";
  EXPECT_TRUE(TriggerTasks({}, Parent(), Job(), early, "o", "r").empty());
  // Revoked or stopped by a signal.
  JobOutcome revoked = Completed();
  revoked.status = "job-revoked";
  EXPECT_TRUE(TriggerTasks({}, Parent(), Job(), revoked, "o", "r").empty());
  // run_job(job, queue_when_finished=False), positional or by name; only
  // True queues (Python's `is True`).
  TaskMessage parent = Parent();
  parent.args.push_back(false);
  EXPECT_TRUE(TriggerTasks({}, parent, Job(), Completed(), "o", "r").empty());
  parent = Parent();
  parent.kwargs = {{"queue_when_finished", 1}};
  EXPECT_TRUE(TriggerTasks({}, parent, Job(), Completed(), "o", "r").empty());
  parent.kwargs = {{"queue_when_finished", true}};
  EXPECT_EQ(TriggerTasks({}, parent, Job(), Completed(), "o", "r").size(), 1u);
  // No payload id: nothing to evaluate rules on.
  Json bare = {{"job_id", "j1"}, {"job_info", Json::object()}};
  EXPECT_TRUE(TriggerTasks({}, Parent(), bare, Completed(), "o", "r").empty());
  // A job-deduped job queues its user rules too.
  JobOutcome deduped;
  deduped.status = "job-deduped";
  EXPECT_EQ(TriggerTasks({}, Parent(), Job(), deduped, "o", "r").size(), 1u);
}

TEST(TriggerRulesTest, AnEmptyQueueSettingSendsNoneOfItsKind) {
  Json a = {{"id", "prod-a"}, {"ipath", "hysds::data/a"}};
  TriggerSettings settings;
  settings.user_rules_job_queue = "";
  auto tasks = TriggerTasks(settings, Parent(), Job(), Completed({a}), "o", "r");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].queue, "dataset_processed");
  settings.dataset_processed_queue = "";
  EXPECT_TRUE(TriggerTasks(settings, Parent(), Job(), Completed({a}), "o", "r").empty());
}

TEST(TriggerRulesTest, SentThroughTheOutboxDeclaredKeptAndAnnounced) {
  Outbox outbox;
  EventPublisher events({"celery@test", 1}, &outbox, true);
  TriggerSettings settings;
  settings.queue_arguments = {{"x-max-priority", 10}};
  settings.send_wait = std::chrono::milliseconds(0);  // nothing writes them here
  TriggerRules rules(settings, &outbox, &events);
  Json a = {{"id", "prod-a"}, {"ipath", "hysds::data/a"}};
  std::vector<std::string> ids = rules.Send(Parent(), Job(), Completed({a}));
  ASSERT_EQ(ids.size(), 2u);
  std::vector<BrokerAction> actions = outbox.TakeAll();
  std::vector<const BrokerAction*> tasks, sent_events;
  for (const auto& a : actions) (a.exchange == kEventExchange ? sent_events : tasks).push_back(&a);
  ASSERT_EQ(tasks.size(), 2u);
  ASSERT_EQ(sent_events.size(), 2u);
  EXPECT_EQ(tasks[0]->routing_key, "dataset_processed");
  EXPECT_EQ(tasks[1]->routing_key, "user_rules_job");
  for (const BrokerAction* t : tasks) {
    EXPECT_EQ(t->exchange, "");
    EXPECT_EQ(t->declare_queue, t->routing_key);
    EXPECT_EQ(t->declare_arguments, settings.queue_arguments);
    EXPECT_TRUE(t->retain);
    EXPECT_EQ(t->message.content_type, "application/x-msgpack");
    EXPECT_EQ(t->message.delivery_mode, 2);
  }
  EXPECT_EQ(tasks[1]->message.headers["task"], "hysds.task_worker.run_task");
  EXPECT_EQ(tasks[1]->message.headers["id"], ids[1]);
  EXPECT_EQ(tasks[1]->message.headers["parent_id"], "run-job-task");
  EXPECT_EQ(tasks[1]->message.correlation_id, ids[1]);
  Delivery d;
  d.content_type = tasks[1]->message.content_type;
  d.headers = tasks[1]->message.headers;
  d.body = tasks[1]->message.body;
  TaskMessage back;
  ASSERT_TRUE(celery_testing::Decode(d, &back).ok());
  EXPECT_EQ(back.args, UserRules("job_status-2024.01.02"));
  Json event = Json::parse(sent_events[0]->message.body);
  EXPECT_EQ(event["type"], "task-sent");
  EXPECT_EQ(event["uuid"], ids[0]);
  EXPECT_EQ(event["name"], "hysds.orchestrator.submit_job");
  EXPECT_EQ(event["queue"], "dataset_processed");
}

TEST(TriggerRulesTest, SendReturnsOnceTheConnectionThreadWroteThem) {
  Outbox outbox;
  EventPublisher events({"celery@test", 1}, &outbox, false);
  TriggerRules rules(TriggerSettings(), &outbox, &events);
  Json a = {{"id", "prod-a"}, {"ipath", "hysds::data/a"}};
  std::atomic<int> written{0};
  // A stand-in for the connection thread, 200 ms late.
  std::thread connection([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int taken = 0; taken < 2;) {
      for (auto& action : outbox.TakeAll()) {
        if (!action.on_sent) continue;
        ++taken;
        ++written;
        action.on_sent();
      }
    }
  });
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> ids = rules.Send(Parent(), Job(), Completed({a}));
  auto took = std::chrono::steady_clock::now() - start;
  connection.join();
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(written, 2);
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(5));  // not the whole send_wait
}

}  // namespace
}  // namespace verdi
