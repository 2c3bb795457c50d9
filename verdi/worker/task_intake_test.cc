// Task intake's decisions on each delivery, with fake slots: refused,
// requeued, ended unrun (expired or revoked), held for its ETA, adopted, or
// submitted.
#include "verdi/worker/task_intake.h"

#include <gtest/gtest.h>

#include "verdi/worker/worker_testing.h"

namespace verdi {
namespace {

using worker_testing::Drain;
using worker_testing::FakeResults;
using worker_testing::RunJob;
using Result = TaskIntake::Result;

class FakeSlots : public WorkSink {
 public:
  void Submit(Work work) override { submitted.push_back(work.task.id); }
  bool Adopt(const std::string& id, const TaskDelivery&) override { return id == running; }
  std::vector<std::string> submitted;
  std::string running;
};

class TaskIntakeTest : public testing::Test {
 protected:
  AmqpDelivery Delivery(const TaskMessage& task, uint64_t tag, bool redelivered = false) {
    AmqpOutgoing out = EncodeTaskMessage(task);
    AmqpDelivery d;
    d.delivery_tag = tag;
    d.redelivered = redelivered;
    d.content_type = out.content_type;
    d.content_encoding = out.content_encoding;
    d.headers = out.headers;
    d.body = out.body;
    return d;
  }
  Result Accept(const TaskMessage& task, uint64_t tag = 7, bool stopping = false) {
    return intake_.Accept(Delivery(task, tag), 1, stopping, now_);
  }

  FakeResults results_;
  Outbox outbox_;
  EventPublisher events_{{"celery@test", 1}, &outbox_, true};
  RevokedSet revoked_;
  FakeSlots slots_;
  WallClock::time_point now_ = WallClock::now();
  TaskIntake intake_{{&results_, nullptr, &events_, &outbox_, &revoked_, &slots_, nullptr, {}}};
};

TEST_F(TaskIntakeTest, AValidTaskIsSubmitted) {
  EXPECT_EQ(Accept(RunJob("t1")), Result::kSubmitted);
  EXPECT_EQ(slots_.submitted, std::vector<std::string>{"t1"});
  auto sent = Drain(&outbox_);
  EXPECT_NE(sent.Event("task-received"), nullptr);
  EXPECT_TRUE(sent.acts.empty());  // acked by its slot, later
  EXPECT_EQ(intake_.processed(), 1);
}

TEST_F(TaskIntakeTest, AnExpiredTaskIsRevokedAndAnnouncedAsCeleryDoes) {
  TaskMessage task = RunJob("t1");
  task.expires = now_ - std::chrono::seconds(5);
  EXPECT_EQ(Accept(task), Result::kEnded);
  EXPECT_TRUE(slots_.submitted.empty());
  ASSERT_EQ(results_.stored.size(), 1u);
  EXPECT_EQ(results_.stored[0].state, "REVOKED");
  EXPECT_EQ(results_.stored[0].result["exc_message"], Json::array({"expired"}));
  auto sent = Drain(&outbox_);
  ASSERT_NE(sent.Event("task-revoked"), nullptr);
  EXPECT_EQ((*sent.Event("task-revoked"))["expired"], true);
  EXPECT_EQ(sent.Event("task-received"), nullptr);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"ack 7"});
}

TEST_F(TaskIntakeTest, ARevokedTaskEndsUnrun) {
  revoked_.Add("t1");
  EXPECT_EQ(Accept(RunJob("t1")), Result::kEnded);
  EXPECT_EQ(results_.stored.at(0).state, "REVOKED");
  auto sent = Drain(&outbox_);
  ASSERT_NE(sent.Event("task-revoked"), nullptr);
  EXPECT_EQ((*sent.Event("task-revoked"))["expired"], false);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"ack 7"});
}

TEST_F(TaskIntakeTest, WhileStoppingAValidTaskIsRequeued) {
  EXPECT_EQ(Accept(RunJob("t1"), 9, /*stopping=*/true), Result::kRequeued);
  EXPECT_EQ(Drain(&outbox_).acts, std::vector<std::string>{"reject 9 requeue"});
  EXPECT_TRUE(slots_.submitted.empty());
}

TEST_F(TaskIntakeTest, AnUnknownTaskIsNotRegistered) {
  TaskMessage task = RunJob("t1");
  task.task = "proj.add";
  EXPECT_EQ(Accept(task), Result::kRefused);
  EXPECT_EQ(results_.stored.at(0).state, "FAILURE");
  EXPECT_EQ(results_.stored.at(0).result["exc_type"], "NotRegistered");
  EXPECT_EQ(Drain(&outbox_).acts, std::vector<std::string>{"reject 7"});
}

TaskMessage Noop(const std::string& id) {
  TaskMessage task;
  task.id = id;
  task.task = kNoopTaskName;
  return task;
}

// verdi.noop runs at intake: no slot, SUCCESS (None) stored before the ack.
TEST_F(TaskIntakeTest, TheNoopTaskStoresSuccessThenAcksWithoutASlot) {
  EXPECT_EQ(Accept(Noop("n1"), 5), Result::kSubmitted);
  EXPECT_TRUE(slots_.submitted.empty());
  ASSERT_EQ(results_.stored.size(), 1u);
  EXPECT_EQ(results_.stored[0].id, "n1");
  EXPECT_EQ(results_.stored[0].state, "SUCCESS");
  EXPECT_TRUE(results_.stored[0].result.is_null());
  auto sent = Drain(&outbox_);
  EXPECT_NE(sent.Event("task-received"), nullptr);
  EXPECT_NE(sent.Event("task-succeeded"), nullptr);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"ack 5"});
}

TEST_F(TaskIntakeTest, ANoopWhoseResultCannotBeStoredStaysUnacked) {
  results_.refuse = true;
  UnstoredResults unstored(&results_, &outbox_, {});
  TaskIntake intake({&results_, &unstored, &events_, &outbox_, &revoked_, &slots_, nullptr, {}});
  EXPECT_EQ(intake.Accept(Delivery(Noop("n1"), 5), 1, false, now_), Result::kSubmitted);
  EXPECT_TRUE(Drain(&outbox_).acts.empty());
  EXPECT_EQ(unstored.size(), 1u);
}

TEST_F(TaskIntakeTest, ANoopHeldForItsEtaRunsWhenDueWithoutASlot) {
  TaskMessage task = Noop("n1");
  task.eta = now_ + std::chrono::hours(1);
  EXPECT_EQ(Accept(task), Result::kHeld);
  EXPECT_TRUE(results_.stored.empty());
  EXPECT_EQ(intake_.ReleaseDue(*intake_.NextDue(), now_ + std::chrono::hours(2)), 1);
  EXPECT_TRUE(slots_.submitted.empty());
  EXPECT_EQ(results_.stored.at(0).state, "SUCCESS");
}

TEST_F(TaskIntakeTest, BadArgumentsAreRefusedWithAFailure) {
  TaskMessage task = RunJob("t1");
  task.args = Json::array({"not a job"});
  EXPECT_EQ(Accept(task), Result::kRefused);
  EXPECT_EQ(results_.stored.at(0).state, "FAILURE");
  auto sent = Drain(&outbox_);
  EXPECT_NE(sent.Event("task-rejected"), nullptr);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"reject 7"});
}

TEST_F(TaskIntakeTest, GarbageIsRejectedWithoutAResult) {
  AmqpDelivery d;
  d.delivery_tag = 3;
  d.content_type = "application/json";
  d.body = "{not json";
  EXPECT_EQ(intake_.Accept(d, 1, false, now_), Result::kRefused);
  EXPECT_TRUE(results_.stored.empty());
  EXPECT_EQ(Drain(&outbox_).acts, std::vector<std::string>{"reject 3"});
}

// A client waiting on an id is answered even when the task name is missing
// or not a string.
TEST_F(TaskIntakeTest, AKnownIdWithoutATaskNameStillGetsItsFailure) {
  for (const Json& name : {Json(5), Json(nullptr)}) {
    AmqpDelivery d = Delivery(RunJob("t9"), 4);
    d.headers["task"] = name;
    results_.stored.clear();
    EXPECT_EQ(intake_.Accept(d, 1, false, now_), Result::kRefused);
    ASSERT_EQ(results_.stored.size(), 1u) << name;
    EXPECT_EQ(results_.stored[0].id, "t9");
    EXPECT_EQ(results_.stored[0].state, "FAILURE");
    EXPECT_EQ(Drain(&outbox_).acts, std::vector<std::string>{"reject 4"});
  }
}

TEST_F(TaskIntakeTest, ARedeliveredTaskThatRunsHereIsAdopted) {
  slots_.running = "t1";
  EXPECT_EQ(intake_.Accept(Delivery(RunJob("t1"), 11, true), 2, false, now_), Result::kAdopted);
  EXPECT_TRUE(slots_.submitted.empty());
  EXPECT_TRUE(Drain(&outbox_).acts.empty());
}

TEST_F(TaskIntakeTest, ARedeliveredTaskWhoseResultWaitsToBeStoredIsAdoptedNotRun) {
  results_.refuse = true;
  UnstoredResults unstored(&results_, &outbox_, {});
  TaskIntake intake({&results_, &unstored, &events_, &outbox_, &revoked_, &slots_, nullptr, {}});
  unstored.Keep(RunJob("t1"), "SUCCESS", Json::object(), nullptr,
                std::make_shared<AckTarget>(TaskDelivery{7, 1}), false);
  // Even expired or revoked by now: it ran, and its result is the one kept.
  revoked_.Add("t1");
  EXPECT_EQ(intake.Accept(Delivery(RunJob("t1"), 11, true), 2, false, now_), Result::kAdopted);
  EXPECT_TRUE(slots_.submitted.empty());
  EXPECT_TRUE(Drain(&outbox_).acts.empty());
  EXPECT_EQ(unstored.size(), 1u);
}

TEST_F(TaskIntakeTest, ATaskEndedUnrunWhoseRevokedCannotBeStoredStaysUnacked) {
  results_.refuse = true;
  UnstoredResults unstored(&results_, &outbox_, {});
  TaskIntake intake({&results_, &unstored, &events_, &outbox_, &revoked_, &slots_, nullptr, {}});
  revoked_.Add("t1");
  EXPECT_EQ(intake.Accept(Delivery(RunJob("t1"), 7), 1, false, now_), Result::kEnded);
  TaskMessage other = RunJob("t2");
  other.task = "some.other.task";
  EXPECT_EQ(intake.Accept(Delivery(other, 8), 1, false, now_), Result::kRefused);
  auto sent = Drain(&outbox_);
  EXPECT_TRUE(sent.acts.empty());
  EXPECT_NE(sent.Event("task-revoked"), nullptr);
  EXPECT_EQ(unstored.size(), 2u);
}

TEST_F(TaskIntakeTest, AnEtaTaskIsHeldThenSubmittedWhenDue) {
  TaskMessage task = RunJob("t1");
  task.eta = now_ + std::chrono::hours(1);
  EXPECT_EQ(Accept(task), Result::kHeld);
  EXPECT_EQ(intake_.held_count(), 1u);
  auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(intake_.ReleaseDue(now, now_), 0);
  EXPECT_EQ(intake_.ReleaseDue(now + std::chrono::hours(2), now_ + std::chrono::hours(2)), 1);
  EXPECT_EQ(slots_.submitted, std::vector<std::string>{"t1"});
  EXPECT_EQ(intake_.held_count(), 0u);
}

TEST_F(TaskIntakeTest, AHeldTaskThatExpiresMeanwhileEndsWhenDue) {
  TaskMessage task = RunJob("t1");
  task.eta = now_ + std::chrono::hours(1);
  task.expires = now_ + std::chrono::minutes(30);
  EXPECT_EQ(Accept(task), Result::kHeld);
  Drain(&outbox_);
  auto later = std::chrono::steady_clock::now() + std::chrono::hours(2);
  EXPECT_EQ(intake_.ReleaseDue(later, now_ + std::chrono::hours(2)), 0);
  EXPECT_TRUE(slots_.submitted.empty());
  auto sent = Drain(&outbox_);
  ASSERT_NE(sent.Event("task-revoked"), nullptr);
  EXPECT_EQ((*sent.Event("task-revoked"))["expired"], true);
  EXPECT_EQ(sent.acts, std::vector<std::string>{"ack 7"});
}

TEST_F(TaskIntakeTest, AHeldTaskRevokedMeanwhileEndsAtOnce) {
  TaskMessage task = RunJob("t1");
  task.eta = now_ + std::chrono::hours(1);
  Accept(task);
  Drain(&outbox_);
  revoked_.Add("t1");
  intake_.EndUnrunnableHeld(now_);
  EXPECT_EQ(intake_.held_count(), 0u);
  EXPECT_EQ(results_.stored.at(0).state, "REVOKED");
  EXPECT_EQ(Drain(&outbox_).acts, std::vector<std::string>{"ack 7"});
}

TEST_F(TaskIntakeTest, HeldTasksGoBackWhenTheWorkerStopsConsuming) {
  TaskMessage task = RunJob("t1");
  task.eta = now_ + std::chrono::hours(1);
  Accept(task, 5);
  Drain(&outbox_);
  intake_.RequeueHeld();
  EXPECT_EQ(Drain(&outbox_).acts, std::vector<std::string>{"reject 5 requeue"});
  EXPECT_EQ(intake_.held_count(), 0u);
}

}  // namespace
}  // namespace verdi
