#include "verdi/worker/drain_guard.h"

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "base/files.h"
#include "jobspec/json_field.h"

namespace verdi {
namespace {

using std::chrono::milliseconds;

WallClock::time_point At(int64_t ms) { return WallClock::time_point(milliseconds(ms)); }

TEST(JobDrainTest, TriggersPastTheThresholdWhenFast) {
  JobDrain drain({3, 5.0});
  EXPECT_FALSE(drain.Record("job-failed", At(1000)));
  EXPECT_FALSE(drain.Record("job-failed", At(1100)));
  EXPECT_FALSE(drain.Record("job-failed", At(1200)));  // count 3: not > 3
  EXPECT_TRUE(drain.Record("job-failed", At(1300)));   // 4 in 0.3 s
  EXPECT_EQ(drain.count(), 4);
  EXPECT_EQ(drain.starttime(), At(1000));
}

TEST(JobDrainTest, SlowFailuresDoNotTrigger) {
  // 3/5 = 0.6 failures per second needed; 4 in 10 s is 0.4.
  JobDrain drain({3, 5.0});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(drain.Record("job-failed", At(i * 3000)));
  EXPECT_FALSE(drain.Record("job-failed", At(10000)));
  EXPECT_EQ(drain.count(), 4);
  // 7 in 10.1 s: 0.69 per second.
  EXPECT_FALSE(drain.Record("job-failed", At(10050)));
  EXPECT_FALSE(drain.Record("job-failed", At(10080)));
  EXPECT_TRUE(drain.Record("job-failed", At(10100)));
}

TEST(JobDrainTest, SuccessAndDedupReset) {
  JobDrain drain({2, 5.0});
  drain.Record("job-failed", At(0));
  drain.Record("job-failed", At(1));
  EXPECT_FALSE(drain.Record("job-completed", At(2)));
  EXPECT_EQ(drain.count(), 0);
  drain.Record("job-failed", At(3));
  drain.Record("job-failed", At(4));
  EXPECT_FALSE(drain.Record("job-deduped", At(5)));
  EXPECT_EQ(drain.count(), 0);
  // Other statuses neither count nor reset.
  drain.Record("job-failed", At(10));
  EXPECT_FALSE(drain.Record("job-terminated", At(11)));
  EXPECT_EQ(drain.count(), 1);
  drain.Record("job-failed", At(12));
  EXPECT_TRUE(drain.Record("job-failed", At(12)));  // no time elapsed at all
  EXPECT_EQ(drain.starttime(), At(10));
}

TEST(JobDrainGuardTest, WritesAndRemovesTheFailuresFile) {
  char tmpl[] = "/tmp/verdi-drain-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path root = tmpl;
  int64_t now_ms = 5000;
  JobDrainGuard guard({2, 5.0}, root, "celery@h1", nullptr, [&] { return At(now_ms); });
  fs::path file = root / "workers" / "celery@h1.failures.json";
  EXPECT_EQ(guard.failures_file(), file);
  EXPECT_FALSE(guard.Record("job-failed"));
  std::string text;
  ASSERT_TRUE(ReadFileToString(file.string(), &text).ok());
  Json doc = Json::parse(text);
  EXPECT_EQ(doc["count"], 1);
  EXPECT_DOUBLE_EQ(doc["starttime"].get<double>(), 5.0);
  EXPECT_EQ(doc["pid"], static_cast<int>(getpid()));
  now_ms = 5500;
  EXPECT_FALSE(guard.Record("job-failed"));
  ASSERT_TRUE(ReadFileToString(file.string(), &text).ok());
  EXPECT_EQ(Json::parse(text)["count"], 2);
  EXPECT_FALSE(guard.Record("job-completed"));
  EXPECT_FALSE(fs::exists(file));
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(guard.Record("job-failed"));
  EXPECT_TRUE(guard.Record("job-failed"));
  EXPECT_FALSE(fs::exists(file));  // removed on the trigger, as HySDS does
  fs::remove_all(root);
}

}  // namespace
}  // namespace verdi
