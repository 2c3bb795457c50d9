// Results the backend would not take: kept, stored again until it takes
// them, and only then the message acked; found again on disk by the next
// life of the worker; a redelivered copy acked instead of the lost one.
#include "verdi/worker/unstored_results.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "tests/test_files.h"
#include "verdi/worker/worker_testing.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;
using worker_testing::Drain;
using worker_testing::FakeResults;
using worker_testing::RunJob;

TaskDelivery Delivery(uint64_t tag, uint64_t connection = 1) {
  TaskDelivery d;
  d.tag = tag;
  d.connection = connection;
  return d;
}

class UnstoredResultsTest : public testing::Test {
 protected:
  UnstoredResultsTest() {
    dir_ = fs::path(testing::TempDir()) / ("unstored-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    options_.dir = dir_ / "results";
    options_.first_retry = std::chrono::milliseconds(10);
    options_.max_retry = std::chrono::milliseconds(40);
  }
  ~UnstoredResultsTest() override { fs::remove_all(dir_); }

  // The acks and rejects pushed within `timeout`, once there are `n`.
  std::vector<std::string> WaitForActs(size_t n,
                                       std::chrono::seconds timeout = std::chrono::seconds(5)) {
    std::vector<std::string> acts;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (acts.size() < n && std::chrono::steady_clock::now() < deadline) {
      for (auto& a : Drain(&outbox_).acts) acts.push_back(a);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return acts;
  }

  fs::path dir_;
  UnstoredResults::Options options_;
  FakeResults results_;
  Outbox outbox_;
};

TEST_F(UnstoredResultsTest, TheMessageIsAckedOnlyOnceTheBackendTakesTheResult) {
  results_.refuse = true;
  UnstoredResults unstored(&results_, &outbox_, options_);
  unstored.Keep(RunJob("t1"), "SUCCESS", {{"status", "job-completed"}}, nullptr,
                std::make_shared<AckTarget>(Delivery(7)), false);
  EXPECT_TRUE(fs::exists(options_.dir / "t1.json"));
  while (results_.refused < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(Drain(&outbox_).acts.empty());  // still unacked: the broker keeps it
  EXPECT_EQ(unstored.size(), 1u);

  results_.refuse = false;
  EXPECT_EQ(WaitForActs(1), std::vector<std::string>{"ack 7"});
  auto stored = results_.StoredSoFar();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].state, "SUCCESS");
  EXPECT_EQ(stored[0].result["status"], "job-completed");
  EXPECT_EQ(unstored.size(), 0u);
  EXPECT_FALSE(fs::exists(options_.dir));  // nothing left behind
}

TEST_F(UnstoredResultsTest, ARedeliveredCopyIsAckedInsteadOfTheLostDelivery) {
  results_.refuse = true;
  UnstoredResults unstored(&results_, &outbox_, options_);
  unstored.Keep(RunJob("t1"), "FAILURE", {{"exc_type", "WorkerExecutionError"}}, nullptr,
                std::make_shared<AckTarget>(Delivery(7, 1)), false);
  EXPECT_TRUE(unstored.Adopt(RunJob("t1"), Delivery(21, 2)));
  EXPECT_FALSE(unstored.Adopt(RunJob("other"), Delivery(22, 2)));
  results_.refuse = false;
  std::vector<BrokerAction> actions;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (actions.empty() && std::chrono::steady_clock::now() < deadline) {
    for (auto& a : outbox_.TakeAll())
      if (a.kind != BrokerAction::Kind::kPublish) actions.push_back(a);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].delivery_tag, 21u);
  EXPECT_EQ(actions[0].connection, 2u);
}

TEST_F(UnstoredResultsTest, TheNextLifeFindsTheResultOnDiskAndDoesNotRunTheTaskAgain) {
  results_.refuse = true;
  {
    UnstoredResults first(&results_, &outbox_, options_);
    first.Keep(RunJob("t1"), "SUCCESS", {{"status", "job-completed"}}, nullptr,
               std::make_shared<AckTarget>(Delivery(7)), false);
  }  // the worker stops with the result still not stored
  EXPECT_TRUE(Drain(&outbox_).acts.empty());
  ASSERT_TRUE(fs::exists(options_.dir / "t1.json"));

  results_.refuse = false;
  UnstoredResults next(&results_, &outbox_, options_);
  EXPECT_FALSE(next.Adopt(RunJob("t2"), Delivery(8, 2)));
  EXPECT_TRUE(next.Adopt(RunJob("t1"), Delivery(9, 2)));
  EXPECT_EQ(WaitForActs(1), std::vector<std::string>{"ack 9"});
  auto stored = results_.StoredSoFar();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].id, "t1");
  EXPECT_EQ(stored[0].state, "SUCCESS");
  EXPECT_FALSE(fs::exists(options_.dir / "t1.json"));
}

TEST_F(UnstoredResultsTest, ARefusedMessageIsRejectedOnceItsFailureIsStored) {
  results_.refuse = true;
  UnstoredResults unstored(&results_, &outbox_, options_);
  unstored.Keep(RunJob("t1"), "FAILURE", {{"exc_type", "NotRegistered"}}, nullptr,
                std::make_shared<AckTarget>(Delivery(4)), true);
  results_.refuse = false;
  EXPECT_EQ(WaitForActs(1), std::vector<std::string>{"reject 4"});
}

TEST_F(UnstoredResultsTest, AnIdThatCannotNameAFileIsKeptInMemoryOnly) {
  results_.refuse = true;
  UnstoredResults unstored(&results_, &outbox_, options_);
  unstored.Keep(RunJob("../../escape"), "SUCCESS", Json::object(), nullptr,
                std::make_shared<AckTarget>(Delivery(5)), false);
  EXPECT_FALSE(fs::exists(options_.dir));
  EXPECT_FALSE(fs::exists(dir_ / "escape.json"));
  results_.refuse = false;
  EXPECT_EQ(WaitForActs(1), std::vector<std::string>{"ack 5"});
}

TEST_F(UnstoredResultsTest, AFileThatIsNotAKeptResultOfTheTaskIsIgnored) {
  fs::create_directories(options_.dir);
  test_files::Write(options_.dir / "t1.json",
                    R"({"task_id": "t2", "state": "SUCCESS", "result": 1})");
  UnstoredResults unstored(&results_, &outbox_, options_);
  EXPECT_FALSE(unstored.Adopt(RunJob("t1"), Delivery(9)));
}

}  // namespace
}  // namespace verdi
