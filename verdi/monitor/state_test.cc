#include "verdi/monitor/state.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

Json Event(const std::string& type, const std::string& host, double ts, Json extra = {}) {
  Json e = {{"type", type},   {"hostname", host}, {"timestamp", ts},
            {"utcoffset", 0}, {"pid", 1},         {"clock", 1}};
  if (extra.is_object()) e.update(extra);
  return e;
}

TEST(MonitorStateTest, WorkerAliveByHeartbeatExpiry) {
  MonitorState state;
  state.Feed(Event("worker-online", "w@h", 100, {{"freq", 2.0}, {"processed", 0}}), 100);
  ASSERT_EQ(state.workers().count("w@h"), 1u);
  const MonitorWorker& w = state.workers().at("w@h");
  EXPECT_TRUE(w.Alive(100));
  EXPECT_TRUE(w.Alive(103.9));
  EXPECT_FALSE(w.Alive(104));  // 100 + 2 × 2
  state.Feed(Event("worker-heartbeat", "w@h", 105, {{"freq", 2.0}, {"processed", 7}}), 105);
  EXPECT_TRUE(w.Alive(106));
  EXPECT_EQ(w.processed, 7);
  state.Feed(Event("worker-offline", "w@h", 106), 106);
  EXPECT_FALSE(w.Alive(106));
  Json j = state.ToJson(106);
  EXPECT_EQ(j["workers"][0]["alive"], false);
}

TEST(MonitorStateTest, ActiveTasksAndOutcomes) {
  MonitorState state;
  state.Feed(Event("worker-heartbeat", "w@h", 10, {{"freq", 2.0}}), 10);
  state.Feed(Json::array({Event("task-received", "w@h", 10,
                                {{"uuid", "u1"},
                                 {"name", "hysds.job_worker.run_job"},
                                 {"args", "[{'job_id': 'job-1', 'type': 'x'}]"}}),
                          Event("task-started", "w@h", 11, {{"uuid", "u1"}})}),
             11);
  Json j = state.ToJson(21);
  ASSERT_EQ(j["workers"][0]["active_tasks"].size(), 1u);
  EXPECT_EQ(j["workers"][0]["active_tasks"][0]["uuid"], "u1");
  EXPECT_EQ(j["workers"][0]["active_tasks"][0]["job_id"], "job-1");
  EXPECT_DOUBLE_EQ(j["workers"][0]["active_tasks"][0]["elapsed"].get<double>(), 10.0);
  std::string text = state.RenderText(21);
  EXPECT_NE(text.find("u1"), std::string::npos) << text;
  EXPECT_NE(text.find("10.0s"), std::string::npos) << text;

  state.Feed(Event("task-succeeded", "w@h", 12, {{"uuid", "u1"}, {"runtime", 1.0}}), 12);
  // A late task-started never brings a finished task back.
  state.Feed(Event("task-started", "w@h", 11, {{"uuid", "u1"}}), 12);
  EXPECT_EQ(state.tasks().at("u1").state, "SUCCESS");
  EXPECT_EQ(state.workers().at("w@h").succeeded, 1);
  j = state.ToJson(12);
  EXPECT_TRUE(j["workers"][0]["active_tasks"].empty());
  EXPECT_EQ(j["workers"][0]["processed"], 1);
}

TEST(MonitorStateTest, FailuresWithShortErrorNewestFirstAndBounded) {
  MonitorState state(/*max_failures=*/2);
  for (int i = 0; i < 3; ++i) {
    std::string uuid = "f" + std::to_string(i);
    state.Feed(
        Event("task-failed", "w@h", 20 + i,
              {{"uuid", uuid}, {"exception", "WorkerExecutionError('Got non-zero exit code: 3')"}}),
        20 + i);
  }
  // A duplicate event is not counted twice.
  state.Feed(Event("task-failed", "w@h", 22, {{"uuid", "f2"}, {"exception", "X('y')"}}), 22);
  ASSERT_EQ(state.failures().size(), 2u);
  EXPECT_EQ(state.failures()[0].uuid, "f2");
  EXPECT_EQ(state.failures()[1].uuid, "f1");
  EXPECT_EQ(state.failures()[0].short_error, "Got non-zero exit code: 3");
  EXPECT_EQ(state.workers().at("w@h").failed, 3);
  Json j = state.ToJson(23);
  EXPECT_EQ(j["failures"][0]["short_error"], "Got non-zero exit code: 3");
  EXPECT_FALSE(j.contains("job_statuses"));
  EXPECT_NE(state.RenderText(23).find("Got non-zero exit code: 3"), std::string::npos);

  std::string long_error(50, 'a');
  state.Feed(
      Event("task-failed", "w@h", 30, {{"uuid", "f9"}, {"exception", "E('" + long_error + "')"}}),
      30);
  EXPECT_EQ(state.failures()[0].short_error, std::string(20, 'a') + "....." + std::string(10, 'a'));
}

TEST(MonitorStateTest, ExceptionMessage) {
  EXPECT_EQ(ExceptionMessage("ValueError('x')"), "x");
  EXPECT_EQ(ExceptionMessage("E(\"it's\")"), "it's");
  EXPECT_EQ(ExceptionMessage("E('a\\'b')"), "a'b");
  EXPECT_EQ(ExceptionMessage("E('a', 'b')"), "E('a', 'b')");
  EXPECT_EQ(ExceptionMessage("plain text"), "plain text");
  EXPECT_EQ(ExceptionMessage(""), "");
}

TEST(MonitorStateTest, IgnoresMalformedEventsAndReportsStatusCounts) {
  MonitorState state;
  state.Feed(Json::array({42, Json::object(), Event("task-started", "w@h", 1)}), 1);
  state.Feed(Json("text"), 1);
  EXPECT_TRUE(state.tasks().empty());
  state.SetJobStatusCounts({{"job-completed", 2}, {"job-failed", 1}});
  Json j = state.ToJson(2);
  EXPECT_EQ(j["job_statuses"]["job-completed"], 2);
  EXPECT_NE(state.RenderText(2).find("job-failed 1"), std::string::npos);
}

TEST(MonitorStateTest, ForgetsOldestFinishedTasks) {
  MonitorState state(10, /*max_tasks=*/2);
  state.Feed(Event("task-started", "w@h", 1, {{"uuid", "running"}}), 1);
  state.Feed(Event("task-succeeded", "w@h", 2, {{"uuid", "old"}}), 2);
  state.Feed(Event("task-succeeded", "w@h", 3, {{"uuid", "new"}}), 3);
  EXPECT_EQ(state.tasks().size(), 2u);
  EXPECT_EQ(state.tasks().count("running"), 1u);
  EXPECT_EQ(state.tasks().count("new"), 1u);
}

}  // namespace
}  // namespace verdi
