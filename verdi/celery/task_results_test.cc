// TaskResults on the test run's Redis: what a redelivered task's dedup reads
// back, in the serializer results are written with.
#include "verdi/celery/task_results.h"

#include <gtest/gtest.h>

#include "jobspec/uuid.h"
#include "tests/test_services.h"

namespace verdi {
namespace {

TaskMessage Task() {
  TaskMessage task;
  task.id = NewUuid4();
  task.task = kRunJobTaskName;
  return task;
}

TEST(TaskResultsTest, StatesAreReadBackInEitherSerializer) {
  for (Serializer written : {Serializer::kJson, Serializer::kMsgpack}) {
    SCOPED_TRACE(SerializerName(written));
    ResultFormat format;
    format.serializer = written;
    std::unique_ptr<TaskResults> results;
    ASSERT_TRUE(MakeTaskResults(testing::TestRedisUrl(), 60, format, nullptr, &results).ok());
    TaskMessage task = Task();
    EXPECT_EQ(results->StoredState(task.id), "");
    results->Store(task, "STARTED", {{"pid", 1}, {"hostname", "w@h"}}, nullptr);
    EXPECT_EQ(results->StoredState(task.id), "STARTED");
    results->Store(task, "SUCCESS", {{"status", "job-completed"}}, nullptr);
    EXPECT_EQ(results->StoredState(task.id), "SUCCESS");
    EXPECT_EQ(results->failures(), 0u);
  }
}

TEST(TaskResultsTest, AStoredResultTheAcceptListRefusesIsNotRead) {
  ResultFormat msgpack_only;
  msgpack_only.serializer = Serializer::kMsgpack;
  msgpack_only.accept = {Serializer::kMsgpack};
  ResultFormat json_only;
  json_only.accept = {Serializer::kJson};
  std::unique_ptr<TaskResults> writer, reader;
  ASSERT_TRUE(MakeTaskResults(testing::TestRedisUrl(), 60, msgpack_only, nullptr, &writer).ok());
  ASSERT_TRUE(MakeTaskResults(testing::TestRedisUrl(), 60, json_only, nullptr, &reader).ok());
  TaskMessage task = Task();
  writer->Store(task, "SUCCESS", 1, nullptr);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(reader->StoredState(task.id), "");
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("task " + task.id +
                     ": cannot read its stored state: the stored result is msgpack, which "
                     "result_accept_content (json) does not accept"),
            std::string::npos)
      << log;
  EXPECT_EQ(writer->StoredState(task.id), "SUCCESS");
}

}  // namespace
}  // namespace verdi
