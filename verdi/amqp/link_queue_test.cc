// Messages and queues through AmqpLink against a real RabbitMQ
// (tests/services.py), and against what the stock Python Celery/kombu sends
// and declares.
#include "verdi/amqp/link.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "verdi/amqp/link_testing.h"

namespace verdi {
namespace {

using namespace amqp_testing;

TEST_F(AmqpLinkTest, EveryPropertyAndHeaderTypeRoundTrips) {
  std::string queue = ConsumeNewQueue();
  AmqpOutgoing m;
  m.body = std::string("[1, \"b\\u00e9\"]\0binary\xff", 22);
  m.content_type = "application/json";
  m.content_encoding = "utf-8";
  m.correlation_id = "0f1e2d3c-task-id";
  m.reply_to = "reply-queue-uuid";
  m.expiration = "60000";
  m.priority = 3;
  m.delivery_mode = 2;
  m.headers = {{"task", "x.y"},
               {"utf8", "h\xC3\xA9llo \xE2\x82\xAC"},
               {"yes", true},
               {"no", false},
               {"small", 7},
               {"negative", -12},
               {"big", 5000000000LL},
               {"double", 2.5},
               {"none", nullptr},
               {"timelimit", {nullptr, 30}},
               {"nested", {{"a", {1, "x", {{"deep", true}}}}, {"empty", Json::object()}}}};
  ASSERT_TRUE(link_.Publish("", queue, m).ok());

  AmqpDelivery d;
  ASSERT_TRUE(NextDelivery(link_, &d));
  EXPECT_EQ(d.body, m.body);
  EXPECT_EQ(d.exchange, "");
  EXPECT_EQ(d.routing_key, queue);
  EXPECT_EQ(d.consumer_tag, tag_);
  EXPECT_FALSE(d.redelivered);
  EXPECT_GT(d.delivery_tag, 0u);
  EXPECT_EQ(d.content_type, "application/json");
  EXPECT_EQ(d.content_encoding, "utf-8");
  EXPECT_EQ(d.correlation_id, "0f1e2d3c-task-id");
  EXPECT_EQ(d.reply_to, "reply-queue-uuid");
  EXPECT_EQ(d.message_id, "");
  EXPECT_EQ(d.priority, 3);
  EXPECT_EQ(d.headers, m.headers) << d.headers.dump();
  EXPECT_TRUE(d.headers["big"].is_number_integer());
  EXPECT_TRUE(d.headers["double"].is_number_float());
  ASSERT_TRUE(link_.Ack(d.delivery_tag).ok());

  // Nothing set: no properties, no headers.
  Publish(queue, "");
  ASSERT_TRUE(NextDelivery(link_, &d));
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(d.content_type, "");
  EXPECT_EQ(d.priority, 0);
  EXPECT_EQ(d.headers, Json::object());
  ASSERT_TRUE(link_.Ack(d.delivery_tag).ok());
}

TEST_F(AmqpLinkTest, BadHeadersAreInvalidAndKeepTheLink) {
  std::string queue = ConsumeNewQueue();
  AmqpOutgoing m;
  m.headers = Json::array({1});
  Status st = link_.Publish("", queue, m);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "headers: expected an object, got a list");
  EXPECT_TRUE(link_.connected());
}

TEST_F(AmqpLinkTest, QueueArgumentsAreApplied) {
  // With x-max-priority the broker orders by priority: proves the argument
  // reached it as an integer. Declaring again with the same arguments is
  // not a conflict.
  std::string queue = UniqueName("prio");
  bool passive = true;
  ASSERT_TRUE(link_.DeclareQueue({queue, {{"x-max-priority", 10}}}, &passive).ok());
  EXPECT_FALSE(passive);
  ASSERT_TRUE(link_.DeclareQueue({queue, {{"x-max-priority", 10}}}, &passive).ok());
  EXPECT_FALSE(passive);
  for (int priority : {1, 9, 5}) {
    AmqpOutgoing m;
    m.body = std::to_string(priority);
    m.priority = static_cast<uint8_t>(priority);
    ASSERT_TRUE(link_.Publish("", queue, m).ok());
  }
  std::string tag;
  ASSERT_TRUE(link_.Consume(queue, &tag).ok());
  std::vector<AmqpDelivery> all = Drain(link_, 500ms);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].body, "9");
  EXPECT_EQ(all[1].body, "5");
  EXPECT_EQ(all[2].body, "1");
}

TEST_F(AmqpLinkTest, ReadsATaskSentByPythonCelery) {
  std::string queue = UniqueName("celery");
  bool passive = true;
  ASSERT_TRUE(link_.DeclareQueue({queue, Json::object()}, &passive).ok());
  RunPython(R"(
import sys
from celery import Celery
app = Celery(broker=sys.argv[1])
app.send_task('x.y', args=[1], queue=sys.argv[2])
)",
            url_text_, queue);
  ASSERT_TRUE(link_.Consume(queue, &tag_).ok());
  AmqpDelivery d;
  ASSERT_TRUE(NextDelivery(link_, &d));
  EXPECT_EQ(d.headers["task"], "x.y");
  EXPECT_EQ(d.headers["timelimit"], Json::array({nullptr, nullptr}));
  EXPECT_TRUE(d.headers["retries"].is_number_integer());
  EXPECT_EQ(d.headers["retries"], 0);
  EXPECT_EQ(d.headers["lang"], "py");
  EXPECT_EQ(d.headers["ignore_result"], false);
  EXPECT_EQ(d.correlation_id, d.headers["id"]);
  EXPECT_EQ(d.content_type, "application/json");
  EXPECT_EQ(d.content_encoding, "utf-8");
  EXPECT_EQ(d.routing_key, queue);
  EXPECT_EQ(d.exchange, "");
  Json body = Json::parse(d.body, nullptr, false);
  ASSERT_TRUE(body.is_array()) << d.body;
  ASSERT_EQ(body.size(), 3u);
  EXPECT_EQ(body[0], Json::array({1}));
  EXPECT_EQ(body[1], Json::object());
  EXPECT_TRUE(body[2].contains("chain"));
  EXPECT_TRUE(link_.Ack(d.delivery_tag).ok());
}

TEST_F(AmqpLinkTest, QueueDeclaredByKombuWithOtherArgumentsIsUsedPassively) {
  std::string queue = UniqueName("kombu-prio");
  RunPython(R"(
import sys
from kombu import Connection, Exchange, Queue
with Connection(sys.argv[1]) as conn:
    q = Queue(sys.argv[2], Exchange(sys.argv[2], 'direct'), routing_key=sys.argv[2],
              queue_arguments={'x-max-priority': 10})
    q(conn.default_channel).declare()
)",
            url_text_, queue);
  ASSERT_TRUE(link_.SetPrefetch(4).ok());
  bool passive = false;
  ::testing::internal::CaptureStderr();
  Status st = link_.DeclareQueue({queue, Json::object()}, &passive);
  std::string logged = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(passive);
  EXPECT_TRUE(link_.connected());
  EXPECT_EQ(std::count(logged.begin(), logged.end(), '\n'), 1) << logged;
  EXPECT_NE(logged.find("WARNING"), std::string::npos) << logged;
  EXPECT_NE(logged.find("queue " + queue + " exists with other arguments"), std::string::npos)
      << logged;
  EXPECT_NE(logged.find("406 PRECONDITION_FAILED"), std::string::npos) << logged;
  EXPECT_NE(logged.find("x-max-priority"), std::string::npos) << logged;

  // The same arguments: no conflict. Then consuming works, with the prefetch
  // set before the refused declaration still in force.
  ASSERT_TRUE(link_.DeclareQueue({queue, {{"x-max-priority", 10}}}, &passive).ok());
  EXPECT_FALSE(passive);
  ASSERT_TRUE(link_.Consume(queue, &tag_).ok());
  for (int i = 0; i < 6; ++i) Publish(queue, "m" + std::to_string(i));
  std::vector<AmqpDelivery> all = Drain(link_, 500ms);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].body, "m0");
  EXPECT_EQ(all[0].routing_key, queue);
}

TEST_F(AmqpLinkTest, PrefetchIsHonoured) {
  std::string queue = ConsumeNewQueue(2);
  for (int i = 0; i < 5; ++i) Publish(queue, "m" + std::to_string(i));
  std::vector<AmqpDelivery> first = Drain(link_, 700ms);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].body, "m0");
  EXPECT_EQ(first[1].body, "m1");
  ASSERT_TRUE(link_.Ack(first[0].delivery_tag).ok());
  std::vector<AmqpDelivery> next = Drain(link_, 700ms);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].body, "m2");
}

TEST_F(AmqpLinkTest, RejectRequeuesOrDrops) {
  std::string queue = ConsumeNewQueue();
  Publish(queue, "again");
  AmqpDelivery d;
  ASSERT_TRUE(NextDelivery(link_, &d));
  EXPECT_FALSE(d.redelivered);
  ASSERT_TRUE(link_.Reject(d.delivery_tag, true).ok());
  AmqpDelivery again;
  ASSERT_TRUE(NextDelivery(link_, &again));
  EXPECT_EQ(again.body, "again");
  EXPECT_TRUE(again.redelivered);
  ASSERT_TRUE(link_.Reject(again.delivery_tag, false).ok());
  EXPECT_TRUE(Drain(link_, 300ms).empty());
  // Not merely unacked: a new connection does not get it either.
  link_.Close();
  ASSERT_TRUE(link_.Connect(url_).ok());
  ASSERT_TRUE(link_.Consume(queue, &tag_).ok());
  EXPECT_TRUE(Drain(link_, 500ms).empty());
}

// What `verdi manager` reads: ready messages and consumers, by a passive
// declare; a missing queue is no error and the link stays usable.
TEST_F(AmqpLinkTest, InspectQueueCountsReadyMessagesAndConsumers) {
  std::string queue = UniqueName("depth");
  bool passive = true;
  ASSERT_TRUE(link_.DeclareQueue({queue}, &passive).ok());
  for (int i = 0; i < 3; ++i) Publish(queue, "m");
  uint32_t messages = 0, consumers = 0;
  bool exists = false;
  for (int i = 0; i < 50 && messages < 3; ++i) {  // publishes are asynchronous
    ASSERT_TRUE(link_.InspectQueue(queue, &messages, &consumers, &exists).ok());
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(exists);
  EXPECT_EQ(messages, 3u);
  EXPECT_EQ(consumers, 0u);
  ASSERT_TRUE(link_.Consume(queue, &tag_).ok());
  ASSERT_TRUE(link_.SetPrefetch(1).ok());
  ASSERT_TRUE(link_.InspectQueue(queue, &messages, &consumers, &exists).ok());
  EXPECT_EQ(consumers, 1u);

  Status st = link_.InspectQueue(UniqueName("missing"), &messages, &consumers, &exists);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(exists);
  EXPECT_EQ(messages, 0u);
  EXPECT_TRUE(link_.connected());
  ASSERT_TRUE(link_.InspectQueue(queue, &messages, &consumers, &exists).ok());
  EXPECT_TRUE(exists);
}

}  // namespace
}  // namespace verdi
