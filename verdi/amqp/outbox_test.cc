// The Outbox against a real RabbitMQ (tests/services.py): publishes that
// declare their queue first, and publishes kept while there is no
// connection.
#include "verdi/amqp/outbox.h"

#include <gtest/gtest.h>

#include "verdi/amqp/link_testing.h"

namespace verdi {
namespace {

using namespace amqp_testing;

BrokerAction TaskPublish(const std::string& queue, const std::string& body) {
  AmqpOutgoing m;
  m.body = body;
  BrokerAction a = BrokerAction::Publish("", queue, m);
  a.declare_queue = queue;
  a.declare_arguments = {{"x-max-priority", 10}};
  a.retain = true;
  return a;
}

TEST_F(AmqpLinkTest, APublishDeclaresItsQueueOncePerConnection) {
  std::string queue = UniqueName("declared");
  Outbox outbox;
  outbox.Push(TaskPublish(queue, "one"));
  outbox.Push(TaskPublish(queue, "two"));
  outbox.FlushTo(&link_, 1);
  // Declared as Celery declares it with task_queue_max_priority: the same
  // declaration again is accepted, another one would not be.
  bool passive = true;
  ASSERT_TRUE(link_.DeclareQueue({queue, {{"x-max-priority", 10}}}, &passive).ok());
  EXPECT_FALSE(passive);
  ASSERT_TRUE(link_.Consume(queue, &tag_).ok());
  std::vector<AmqpDelivery> got = Drain(link_, 1s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "one");
  EXPECT_EQ(got[1].body, "two");
  EXPECT_EQ(got[0].routing_key, queue);
  EXPECT_EQ(got[0].exchange, "");
}

TEST_F(AmqpLinkTest, RetainedPublishesWaitForTheNextConnectionInOrder) {
  std::string queue = UniqueName("retained");
  Outbox outbox;
  AmqpLink down;  // never connected
  outbox.Push(TaskPublish(queue, "first"));
  AmqpOutgoing event;
  event.body = "dropped";
  outbox.Push(BrokerAction::Publish("", queue, event));  // not retained
  outbox.FlushTo(&down, 0);
  EXPECT_EQ(outbox.retained(), 1u);
  outbox.Push(TaskPublish(queue, "second"));
  outbox.FlushTo(&down, 0);
  EXPECT_EQ(outbox.retained(), 2u);
  outbox.FlushTo(&link_, 1);
  EXPECT_EQ(outbox.retained(), 0u);
  ASSERT_TRUE(link_.Consume(queue, &tag_).ok());
  std::vector<AmqpDelivery> got = Drain(link_, 1s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "first");
  EXPECT_EQ(got[1].body, "second");
}

}  // namespace
}  // namespace verdi
