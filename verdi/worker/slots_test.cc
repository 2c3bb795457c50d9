// The job slots' gate: at most `active` jobs at once, moved while jobs run
// (pool_grow, pool_shrink, autoscale), with jobs that only end when the test
// lets them.
#include "verdi/worker/slots.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "verdi/worker/worker_testing.h"

namespace verdi {
namespace {

using worker_testing::Harness;
using worker_testing::RunJob;

// Each job runs until the test releases it.
class HeldRunner : public JobRunner {
 public:
  JobRun Run(Json payload, Interrupts*) override {
    std::string id = payload.value("task_id", "");
    std::unique_lock<std::mutex> lock(mu_);
    started_.insert(id);
    ++running_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_.count(id) > 0; });
    --running_;
    JobRun run;
    run.prepared = true;
    run.job = payload;
    run.outcome.status = "job-completed";
    return run;
  }
  void Release(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    released_.insert(id);
    cv_.notify_all();
  }
  // The tasks started, once `n` have (or after a while, whatever started).
  std::set<std::string> Started(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return started_.size() >= n; });
    return started_;
  }
  // The tasks started after a moment in which more could have.
  std::set<std::string> StartedAfterAWhile() {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> started_, released_;
  int running_ = 0;
};

Work WorkFor(const std::string& id, uint64_t tag) {
  Work work;
  work.task = RunJob(id);
  work.delivery.tag = tag;
  work.delivery.connection = 1;
  return work;
}

using Ids = std::set<std::string>;

TEST(SlotsTest, ThePoolGrowsAndShrinksWhileJobsRun) {
  Harness h;
  HeldRunner runner;
  h.services.runner = &runner;
  h.services.job_ended = nullptr;
  Slots slots(1, h.services);
  slots.Submit(WorkFor("a", 1));
  slots.Submit(WorkFor("b", 2));
  EXPECT_EQ(runner.Started(1), Ids({"a"}));
  EXPECT_EQ(runner.StartedAfterAWhile(), Ids({"a"}));  // one slot: b waits

  slots.SetActive(2);  // pool_grow 1: a second thread, b starts
  EXPECT_EQ(runner.Started(2), Ids({"a", "b"}));
  EXPECT_EQ(slots.Running(), 2u);

  // pool_shrink 1 while both run: neither is stopped, and c waits until
  // fewer than one runs.
  slots.SetActive(1);
  slots.Submit(WorkFor("c", 3));
  EXPECT_EQ(runner.StartedAfterAWhile(), Ids({"a", "b"}));
  runner.Release("a");
  EXPECT_EQ(runner.StartedAfterAWhile(), Ids({"a", "b"}));
  EXPECT_EQ(slots.Busy(), 2u);  // b running, c queued
  runner.Release("b");
  EXPECT_EQ(runner.Started(3), Ids({"a", "b", "c"}));

  // Beyond the threads there are: more are made.
  slots.SetActive(3);
  slots.Submit(WorkFor("d", 4));
  slots.Submit(WorkFor("e", 5));
  EXPECT_EQ(runner.Started(5), Ids({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(slots.Running(), 3u);
  for (const char* id : {"c", "d", "e"}) runner.Release(id);
}

}  // namespace
}  // namespace verdi
