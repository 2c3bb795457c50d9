// The decisions a job slot makes around a job, with a fake job runner: when
// the task is acked, when it is requeued, when a redelivered copy is not run
// again, and how revokes and expiry end it.
#include "verdi/worker/run_job_task.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "tests/test_files.h"
#include "verdi/worker/worker_testing.h"

namespace verdi {
namespace {

using worker_testing::Drain;
using worker_testing::Harness;
using worker_testing::RunJob;

TaskDelivery Delivery(uint64_t tag, bool redelivered = false) {
  TaskDelivery d;
  d.tag = tag;
  d.connection = 1;
  d.redelivered = redelivered;
  return d;
}

TEST(RunJobTaskTest, AcksLateAfterTheResultIsStored) {
  Harness h;
  std::vector<std::string> acts_during_run;
  h.runner.during = [&] { acts_during_run = Drain(&h.outbox).acts; };
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  ASSERT_EQ(h.runner.payloads.size(), 1u);
  EXPECT_EQ(h.runner.payloads[0]["task_id"], "t1");
  EXPECT_TRUE(acts_during_run.empty());  // not acked while the job runs
  ASSERT_EQ(h.results.stored.size(), 2u);
  EXPECT_EQ(h.results.stored[0].state, "STARTED");
  EXPECT_EQ(h.results.stored[1].state, "SUCCESS");
  EXPECT_EQ(h.results.stored[1].result["status"], "job-completed");
  EXPECT_EQ(Drain(&h.outbox).acts, std::vector<std::string>{"ack 7"});
  EXPECT_EQ(h.ended, std::vector<std::string>{"job-completed"});
}

TEST(RunJobTaskTest, AcksEarlyBeforeTheJobRunsWithoutAcksLate) {
  Harness h;
  h.services.acks_late = false;
  std::vector<std::string> acts_during_run;
  h.runner.during = [&] { acts_during_run = Drain(&h.outbox).acts; };
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  EXPECT_EQ(acts_during_run, std::vector<std::string>{"ack 7"});
  EXPECT_TRUE(Drain(&h.outbox).acts.empty());  // and never twice
}

TEST(RunJobTaskTest, AJobStoppedByTheWorkersShutdownIsRequeuedNotFailed) {
  Harness h;
  h.runner.outcome = {"job-terminated", 143, "stopped", SIGTERM};
  h.runner.during = [&] { h.stopping = true; };
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  auto sent = Drain(&h.outbox);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"reject 7 requeue"});
  ASSERT_NE(sent.Event("task-rejected"), nullptr);
  EXPECT_EQ((*sent.Event("task-rejected"))["requeue"], true);
  ASSERT_EQ(h.results.stored.size(), 1u);  // STARTED only: no FAILURE
  EXPECT_EQ(h.results.stored[0].state, "STARTED");
}

TEST(RunJobTaskTest, AJobStoppedByItsOwnSignalFailsWhenTheWorkerIsNotStopping) {
  Harness h;
  h.runner.outcome = {"job-terminated", 137, "killed by signal 9", SIGKILL};
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  EXPECT_EQ(h.results.stored.back().state, "FAILURE");
  EXPECT_EQ(Drain(&h.outbox).acts, std::vector<std::string>{"ack 7"});
}

// HySDS's FAILURE: WorkerExecutionError(error), the error being the job's
// _alt_error.txt when it wrote one; the traceback its _alt_traceback.txt,
// else the error.
TEST(RunJobTaskTest, AFailureCarriesTheJobsAltErrorAndTraceback) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("verdi-alt-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  for (bool alt : {false, true}) {
    SCOPED_TRACE(alt ? "with _alt files" : "without");
    Harness h;
    std::filesystem::create_directories(dir);
    if (alt) {
      test_files::Write(dir / "_alt_error.txt", "PGE failed: no granule\n");
      test_files::Write(dir / "_alt_traceback.txt", "Traceback (most recent call last):\n  x\n");
    }
    h.runner.outcome = {"job-failed", 3, "Got non-zero exit code: 3", 0, dir};
    RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
    const auto& stored = h.results.stored.back();
    std::string error = alt ? "PGE failed: no granule" : "Got non-zero exit code: 3";
    std::string traceback = alt ? "Traceback (most recent call last):\n  x" : error;
    EXPECT_EQ(stored.state, "FAILURE");
    EXPECT_EQ(stored.result, ExceptionResult("WorkerExecutionError", "hysds.job_worker", error));
    EXPECT_EQ(stored.traceback, traceback);
    auto sent = Drain(&h.outbox);
    ASSERT_NE(sent.Event("task-failed"), nullptr);
    EXPECT_EQ((*sent.Event("task-failed"))["exception"], "WorkerExecutionError('" + error + "')");
    EXPECT_EQ((*sent.Event("task-failed"))["traceback"], traceback);
    std::filesystem::remove_all(dir);
  }
}

TEST(RunJobTaskTest, ARedeliveredTaskWhoseRunEndedIsNotRunAgain) {
  Harness h;
  h.results.states["t1"] = "SUCCESS";
  RunJobTask(RunJob("t1"), Delivery(8, /*redelivered=*/true), h.services, nullptr, nullptr);
  EXPECT_TRUE(h.runner.payloads.empty());
  EXPECT_TRUE(h.results.stored.empty());
  EXPECT_EQ(Drain(&h.outbox).acts, std::vector<std::string>{"ack 8"});
  EXPECT_EQ(h.ended, std::vector<std::string>{"job-deduped"});
}

TEST(RunJobTaskTest, ARedeliveredTaskWhoseTerminalStatusWasSentIsNotRunAgain) {
  // No result was stored (no result backend, or the worker died before it),
  // but its terminal status went out: one terminal status per task.
  StatusSinkOptions options;
  options.status_url = "redis://127.0.0.1:1/0";  // never reached: only the memory counts
  options.log = [](LogLevel, const std::string&) {};
  std::unique_ptr<StatusSink> sink;
  ASSERT_TRUE(StatusSink::Make(options, &sink).ok());
  StatusReporter reporter(std::move(sink), "celery@test");
  Harness h;
  h.services.reporter = &reporter;
  TaskMessage task = RunJob("t1");
  Json job = task.args[0];
  job["task_id"] = "t1";
  reporter.Report(job, "job-completed", {});
  RunJobTask(task, Delivery(8, /*redelivered=*/true), h.services, nullptr, nullptr);
  EXPECT_TRUE(h.runner.payloads.empty());
  // HySDS's redelivered_job_dup summary is the task's result.
  ASSERT_EQ(h.results.stored.size(), 1u);
  EXPECT_EQ(h.results.stored[0].state, "SUCCESS");
  EXPECT_EQ(h.results.stored[0].result["status"], "job-deduped");
  EXPECT_FALSE(h.results.stored[0].result.contains("job_url"));
  EXPECT_EQ(Drain(&h.outbox).acts, std::vector<std::string>{"ack 8"});
  EXPECT_EQ(h.ended, std::vector<std::string>{"job-deduped"});

  // A job-failed without a stored FAILURE is a run lost with its worker
  // (closed out by the worker's next life): the task runs again.
  Harness again;
  again.services.reporter = &reporter;
  TaskMessage lost = RunJob("t2");
  Json lost_job = lost.args[0];
  lost_job["task_id"] = "t2";
  reporter.Report(lost_job, "job-failed", {});
  RunJobTask(lost, Delivery(9, /*redelivered=*/true), again.services, nullptr, nullptr);
  EXPECT_EQ(again.runner.payloads.size(), 1u);
}

TEST(RunJobTaskTest, TheTriggerTasksItSentAreItsResultsChildren) {
  Harness h;
  TriggerRules triggers({}, &h.outbox, &h.events);
  h.services.triggers = &triggers;
  h.runner.outcome.started = true;
  h.runner.outcome.datasets = Json::array({{{"id", "p"}, {"ipath", "hysds::data/p"}}});
  TaskMessage task = RunJob("t1");
  task.args[0]["job_info"] = {{"job_payload", {{"payload_task_id", "payload-1"}}}};
  RunJobTask(task, Delivery(7), h.services, nullptr, nullptr);
  ASSERT_EQ(h.results.stored.back().state, "SUCCESS");
  const auto& children = h.results.stored.back().children;
  ASSERT_EQ(children.size(), 2u);
  std::vector<std::string> published, acts;
  for (const auto& a : h.outbox.TakeAll()) {
    if (a.kind == BrokerAction::Kind::kAck) acts.push_back("ack");
    if (a.kind == BrokerAction::Kind::kPublish && a.exchange.empty()) {
      published.push_back(a.message.headers["id"]);
      EXPECT_TRUE(acts.empty());  // sent before the ack
    }
  }
  EXPECT_EQ(published, children);
  EXPECT_EQ(acts, std::vector<std::string>{"ack"});

  // A revoked job sends none.
  Harness r;
  r.services.triggers = &triggers;
  r.runner.outcome = {"job-revoked", 1, "Job was revoked with signal 15.", SIGTERM};
  r.runner.during = [&] { r.revoked.Add("t2"); };
  RunJobTask(RunJob("t2"), Delivery(8), r.services, nullptr, nullptr);
  EXPECT_EQ(r.results.stored.back().state, "REVOKED");
  EXPECT_TRUE(r.results.stored.back().children.empty());
}

TEST(RunJobTaskTest, ARedeliveredTaskThatNeverEndedRuns) {
  Harness h;
  h.results.states["t1"] = "STARTED";
  RunJobTask(RunJob("t1"), Delivery(8, true), h.services, nullptr, nullptr);
  EXPECT_EQ(h.runner.payloads.size(), 1u);
  EXPECT_EQ(h.results.stored.back().state, "SUCCESS");
}

TEST(RunJobTaskTest, RevokedBeforeItRunsEndsUnrun) {
  Harness h;
  h.revoked.Add("t1");
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  EXPECT_TRUE(h.runner.payloads.empty());
  ASSERT_EQ(h.results.stored.size(), 1u);
  EXPECT_EQ(h.results.stored[0].state, "REVOKED");
  auto sent = Drain(&h.outbox);
  ASSERT_NE(sent.Event("task-revoked"), nullptr);
  EXPECT_EQ((*sent.Event("task-revoked"))["terminated"], false);
  EXPECT_EQ((*sent.Event("task-revoked"))["expired"], false);
  EXPECT_EQ(sent.Event("task-started"), nullptr);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"ack 7"});
}

TEST(RunJobTaskTest, RevokedWhileItRunsEndsRevokedTerminated) {
  Harness h;
  h.runner.outcome = {"job-terminated", 143, "stopped", SIGTERM};
  h.runner.during = [&] { h.revoked.Add("t1"); };
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  EXPECT_EQ(h.results.stored.back().state, "REVOKED");
  EXPECT_EQ(h.results.stored.back().result["exc_message"], Json::array({"terminated"}));
  auto sent = Drain(&h.outbox);
  ASSERT_NE(sent.Event("task-revoked"), nullptr);
  EXPECT_EQ((*sent.Event("task-revoked"))["terminated"], true);
  EXPECT_EQ((*sent.Event("task-revoked"))["signum"], SIGTERM);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"ack 7"});
}

TEST(RunJobTaskTest, ExpiredBeforeItsSlotTookItEndsUnrun) {
  Harness h;
  TaskMessage task = RunJob("t1");
  task.expires = WallClock::now() - std::chrono::seconds(1);
  RunJobTask(task, Delivery(7), h.services, nullptr, nullptr);
  EXPECT_TRUE(h.runner.payloads.empty());
  EXPECT_EQ(h.results.stored.back().state, "REVOKED");
  auto sent = Drain(&h.outbox);
  ASSERT_NE(sent.Event("task-revoked"), nullptr);
  EXPECT_EQ((*sent.Event("task-revoked"))["expired"], true);
}

TEST(RunJobTaskTest, ARefusedPayloadFailsButDoesNotCountAsARun) {
  Harness h;
  h.runner.refuse = true;
  h.runner.outcome = {"job-failed", 1, "job.params._command: expected a string"};
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  EXPECT_EQ(h.results.stored.back().state, "FAILURE");
  EXPECT_EQ(h.ended, std::vector<std::string>{"job-failed (refused)"});
  EXPECT_EQ(Drain(&h.outbox).acts, std::vector<std::string>{"ack 7"});
}

TEST(RunJobTaskTest, AnAdoptedRedeliveryIsAckedInsteadOfTheLostOne) {
  Harness h;
  auto ack = std::make_shared<AckTarget>(Delivery(7));
  h.runner.during = [&] { ack->Set(Delivery(21, true)); };
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, ack);
  EXPECT_EQ(Drain(&h.outbox).acts, std::vector<std::string>{"ack 21"});
}

TEST(RunJobTaskTest, AResultTheBackendWillNotTakeKeepsTheMessageUnackedUntilItIsStored) {
  Harness h;
  h.results.refuse = true;
  UnstoredResults::Options options;
  options.first_retry = std::chrono::milliseconds(10);
  options.max_retry = std::chrono::milliseconds(20);
  UnstoredResults unstored(&h.results, &h.outbox, options);
  h.services.unstored = &unstored;
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  auto sent = Drain(&h.outbox);
  EXPECT_TRUE(sent.acts.empty());  // not acked: the broker still has it
  EXPECT_NE(sent.Event("task-succeeded"), nullptr);
  EXPECT_EQ(unstored.size(), 1u);
  EXPECT_EQ(h.ended, std::vector<std::string>{"job-completed"});

  h.results.refuse = false;
  std::vector<std::string> acts;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (acts.empty() && std::chrono::steady_clock::now() < deadline) {
    acts = Drain(&h.outbox).acts;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(acts, std::vector<std::string>{"ack 7"});
  EXPECT_EQ(h.results.StoredSoFar().back().state, "SUCCESS");
  EXPECT_EQ(h.runner.payloads.size(), 1u);  // run once
}

TEST(RunJobTaskTest, ARevokedTaskWhoseRevokedCannotBeStoredIsNotAcked) {
  Harness h;
  h.results.refuse = true;
  UnstoredResults unstored(&h.results, &h.outbox, {});
  h.services.unstored = &unstored;
  h.revoked.Add("t1");
  RunJobTask(RunJob("t1"), Delivery(7), h.services, nullptr, nullptr);
  EXPECT_TRUE(Drain(&h.outbox).acts.empty());
  EXPECT_EQ(unstored.size(), 1u);
  EXPECT_TRUE(h.runner.payloads.empty());
}

TEST(RunJobTaskTest, IgnoreResultStoresNothing) {
  Harness h;
  TaskMessage task = RunJob("t1");
  task.ignore_result = true;
  RunJobTask(task, Delivery(7), h.services, nullptr, nullptr);
  EXPECT_TRUE(h.results.stored.empty());
  EXPECT_EQ(h.runner.payloads.size(), 1u);
}

}  // namespace
}  // namespace verdi
