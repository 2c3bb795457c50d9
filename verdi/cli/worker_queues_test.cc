#include "verdi/cli/worker_queues.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

std::vector<QueueSpec> Queues(const WorkerFlags& f, Status* st = nullptr,
                              std::vector<std::string>* warnings = nullptr) {
  std::vector<QueueSpec> queues;
  std::vector<std::string> ignored;
  Status s = MakeQueueSpecs(f, &queues, warnings ? warnings : &ignored);
  if (st != nullptr)
    *st = s;
  else
    EXPECT_TRUE(s.ok()) << s.message();
  return queues;
}

TEST(WorkerQueuesTest, WithoutTaskQueuesTheDefaultQueueOrTheNamedOnes) {
  WorkerFlags f;
  auto q = Queues(f);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].name, "celery");
  EXPECT_EQ(q[0].exchange, "celery");
  EXPECT_EQ(q[0].routing_key, "celery");
  f.queues = "jobs, other";
  f.max_priority = 10;
  q = Queues(f);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[1].name, "other");
  EXPECT_EQ(q[1].exchange, "other");  // created as Celery creates a missing queue
  EXPECT_EQ(q[1].routing_key, "other");
  EXPECT_EQ(q[1].arguments, Json::parse(R"({"x-max-priority": 10})"));
}

TEST(WorkerQueuesTest, KombuQueuesOfTaskQueuesAsCeleryDeclaresThem) {
  WorkerFlags f;
  f.max_priority = 10;
  f.task_queues = Json::parse(R"([
    {"__kombu__": "Queue", "name": "a", "exchange": {"__kombu__": "Exchange", "name": "ex",
     "type": "topic"}, "routing_key": "a.#", "queue_arguments": {"x-max-priority": 5}},
    {"__kombu__": "Queue", "name": "b", "message_ttl": 1.5, "durable": false},
    {"__kombu__": "Queue", "name": "c", "exchange": "cx"}])");
  std::vector<std::string> warnings;
  Status st;
  auto q = Queues(f, &st, &warnings);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].exchange, "ex");
  EXPECT_EQ(q[0].exchange_type, "topic");
  EXPECT_EQ(q[0].routing_key, "a.#");
  EXPECT_EQ(q[0].arguments, Json::parse(R"({"x-max-priority": 5})"));  // its own wins
  // No exchange, no routing key: Celery's defaults (the default queue's).
  EXPECT_EQ(q[1].exchange, "celery");
  EXPECT_EQ(q[1].routing_key, "celery");
  EXPECT_EQ(q[1].arguments, Json::parse(R"({"x-message-ttl": 1500, "x-max-priority": 10})"));
  EXPECT_EQ(q[2].exchange, "cx");
  EXPECT_EQ(q[2].exchange_type, "direct");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "task_queues[1] (queue b): durable: not used by verdi (queues are declared durable, "
            "not exclusive, not auto-deleted)");
  // -Q picks, -X leaves out; a missing queue is an error when Celery would not create it.
  f.queues = "c,a";
  f.exclude_queues = "a";
  q = Queues(f);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].exchange, "cx");
  f.queues = "zzz";
  f.create_missing_queues = false;
  Queues(f, &st);
  EXPECT_EQ(st.message(), "-Q zzz: not in task_queues, and task_create_missing_queues is False");
  f.task_queues = Json::parse(R"([{"__kombu__": "Exchange", "name": "x"}])");
  Queues(f, &st);
  EXPECT_EQ(st.message(), "task_queues[0]: expected a kombu Queue(...), got an object");
}

}  // namespace
}  // namespace verdi
