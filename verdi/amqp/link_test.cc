// AmqpLink against a real RabbitMQ (tests/services.py), and against what the
// stock Python Celery/kombu sends and declares.
#include "verdi/amqp/link.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/test_services.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const fs::path kRepo = VERDI_SOURCE_DIR;

std::string UniqueName(const std::string& what) {
  static int counter = 0;
  return fmt::format("verdi-test-{}-{}-{}", getpid(), ++counter, what);
}

AmqpUrl UrlOf(const std::string& text) {
  AmqpUrl url;
  Status st = ParseAmqpUrl(text, &url);
  EXPECT_TRUE(st.ok()) << st.message();
  return url;
}

// Runs `command` through the shell; returns its exit status, output in *out.
int RunShell(const std::string& command, std::string* out) {
  out->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out->append(buf, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs a Python script with Debian's python3 (stock celery/kombu):
// sys.argv[1] is the broker URL, sys.argv[2] the queue.
void RunPython(const std::string& script, const std::string& url, const std::string& queue) {
  fs::path file = fs::temp_directory_path() / (UniqueName("script") + ".py");
  std::ofstream(file) << script;
  std::string out;
  int rc =
      RunShell(fmt::format("/usr/bin/python3 '{}' '{}' '{}'", file.string(), url, queue), &out);
  fs::remove(file);
  ASSERT_EQ(rc, 0) << out;
}

// Polls until a delivery arrives or `within` has passed.
bool NextDelivery(AmqpLink& link, AmqpDelivery* d, std::chrono::milliseconds within = 5s) {
  Clock::time_point deadline = Clock::now() + within;
  while (Clock::now() < deadline) {
    bool got = false;
    Status st = link.Poll(100ms, d, &got);
    EXPECT_TRUE(st.ok()) << st.message();
    if (!st.ok()) return false;
    if (got) return true;
  }
  return false;
}

// Every delivery that arrives within `within`.
std::vector<AmqpDelivery> Drain(AmqpLink& link, std::chrono::milliseconds within) {
  std::vector<AmqpDelivery> all;
  AmqpDelivery d;
  while (NextDelivery(link, &d, within)) all.push_back(d);
  return all;
}

class AmqpLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_text_ = testing::TestAmqpUrl();
    ASSERT_FALSE(url_text_.empty());
    url_ = UrlOf(url_text_);
    Status st = link_.Connect(url_);
    ASSERT_TRUE(st.ok()) << st.message();
  }

  // A fresh queue declared as Celery does, consumed by link_.
  std::string ConsumeNewQueue(uint16_t prefetch = 10, Json arguments = Json::object()) {
    std::string queue = UniqueName("q");
    bool passive = true;
    Status st = link_.DeclareQueue({queue, arguments}, &passive);
    EXPECT_TRUE(st.ok()) << st.message();
    EXPECT_FALSE(passive);
    st = link_.SetPrefetch(prefetch);
    EXPECT_TRUE(st.ok()) << st.message();
    st = link_.Consume(queue, &tag_);
    EXPECT_TRUE(st.ok()) << st.message();
    return queue;
  }

  void Publish(const std::string& queue, const std::string& body) {
    AmqpOutgoing m;
    m.body = body;
    Status st = link_.Publish("", queue, m);
    ASSERT_TRUE(st.ok()) << st.message();
  }

  std::string url_text_;
  AmqpUrl url_;
  AmqpLink link_;
  std::string tag_;
};

TEST_F(AmqpLinkTest, ConnectsAndCloses) {
  EXPECT_TRUE(link_.connected());
  EXPECT_GE(link_.fd(), 0);
  EXPECT_EQ(link_.heartbeat_seconds(), 60);
  EXPECT_EQ(link_.where(), fmt::format("amqp://guest:***@127.0.0.1:{}//", url_.port));
  link_.Close();
  EXPECT_FALSE(link_.connected());
  EXPECT_EQ(link_.fd(), -1);
  AmqpDelivery d;
  bool got = true;
  Status st = link_.Poll(0ms, &d, &got);
  EXPECT_FALSE(got);
  EXPECT_EQ(st.message(), link_.where() + ": consume: not connected");
}

TEST_F(AmqpLinkTest, WrongPasswordIsAccessRefusedAndRedacted) {
  AmqpUrl bad = url_;
  bad.password = "wrong-secret-xyz";
  AmqpLink link;
  Status st = link.Connect(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(link.connected());
  EXPECT_NE(st.message().find("403 ACCESS_REFUSED"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("amqp://guest:***@127.0.0.1:"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("wrong-secret-xyz"), std::string::npos) << st.message();
}

TEST_F(AmqpLinkTest, UnknownVhostIsRefused) {
  AmqpUrl bad = url_;
  bad.vhost = "no-such-vhost";
  AmqpLink link;
  Status st = link.Connect(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("NOT_ALLOWED"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("no-such-vhost"), std::string::npos) << st.message();
}

TEST_F(AmqpLinkTest, NothingListeningIsIOErrorNamingHostPort) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(s);  // nothing listens there now

  AmqpUrl url = url_;
  url.port = port;
  AmqpLink link;
  Status st = link.Connect(url);
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_FALSE(link.connected());
  EXPECT_EQ(st.message(), fmt::format("amqp://guest:***@127.0.0.1:{0}//: connect to 127.0.0.1:{0}: "
                                      "Connection refused",
                                      port));
}

TEST_F(AmqpLinkTest, TlsToAPlainPortFails) {
  AmqpUrl url = url_;
  url.tls = true;
  url.connect_timeout_seconds = 3;
  AmqpLink link;
  AmqpTls tls;
  tls.verify_peer = tls.verify_hostname = false;
  Status st = link.Connect(url, tls);
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(link.connected());
  EXPECT_NE(st.message().find(fmt::format("amqps://guest:***@127.0.0.1:{}//", url.port)),
            std::string::npos)
      << st.message();
}

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

TEST_F(AmqpLinkTest, PollZeroDoesNotBlock) {
  ConsumeNewQueue();
  AmqpDelivery d;
  bool got = true;
  Clock::time_point start = Clock::now();
  Status st = link_.Poll(0ms, &d, &got);
  auto elapsed = Clock::now() - start;
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(got);
  EXPECT_LT(elapsed, 50ms);
  EXPECT_FALSE(link_.HasBufferedData());
  start = Clock::now();
  ASSERT_TRUE(link_.Poll(300ms, &d, &got).ok());
  EXPECT_FALSE(got);
  EXPECT_GE(Clock::now() - start, 290ms);
}

TEST_F(AmqpLinkTest, HeartbeatsKeepAPollingLinkAlive) {
  AmqpUrl url = url_;
  url.heartbeat_seconds = 2;
  AmqpLink zero, waiting, idle;  // Poll(0) + sleep / Poll(100ms) / nothing
  for (AmqpLink* link : {&zero, &waiting, &idle}) {
    Status st = link->Connect(url);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(link->heartbeat_seconds(), 2);
  }
  // Long enough for the broker to drop a link silent for two intervals.
  Clock::time_point end = Clock::now() + 9s;
  AmqpDelivery d;
  bool got = false;
  while (Clock::now() < end) {
    Status st = zero.Poll(0ms, &d, &got);
    ASSERT_TRUE(st.ok()) << st.message();
    st = waiting.Poll(100ms, &d, &got);
    ASSERT_TRUE(st.ok()) << st.message();
    std::this_thread::sleep_for(150ms);
  }
  EXPECT_TRUE(zero.connected());
  EXPECT_TRUE(waiting.connected());
  // Still really usable.
  bool passive = true;
  EXPECT_TRUE(zero.DeclareQueue({UniqueName("hb"), Json::object()}, &passive).ok());
  EXPECT_TRUE(waiting.SetPrefetch(1).ok());
  // The control: the broker closed the idle one.
  Status st = idle.Poll(0ms, &d, &got);
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(idle.connected());
}

// A private broker: this test restarts it.
class PrivateServices {
 public:
  PrivateServices() : dir_(fs::temp_directory_path() / UniqueName("services")) {}
  ~PrivateServices() {
    std::string out;
    RunShell(Command("stop"), &out);
    fs::remove_all(dir_);
  }
  std::string Command(const std::string& verb) const {
    return fmt::format("/usr/bin/python3 '{}' {} '{}'", (kRepo / "tests" / "services.py").string(),
                       verb, dir_.string());
  }
  std::string AmqpUrlText() const {
    std::ifstream in(dir_ / "services.json");
    return Json::parse(in, nullptr, false).value("amqp_url", "");
  }

 private:
  fs::path dir_;
};

TEST_F(AmqpLinkTest, BrokerRestartBreaksTheLinkAndConnectingAgainWorks) {
  PrivateServices services;
  std::string out;
  ASSERT_EQ(RunShell(services.Command("start"), &out), 0) << out;
  AmqpUrl url = UrlOf(services.AmqpUrlText());
  AmqpLink link;
  ASSERT_TRUE(link.Connect(url).ok());
  std::string queue = UniqueName("restart");
  bool passive = true;
  ASSERT_TRUE(link.DeclareQueue({queue, Json::object()}, &passive).ok());
  std::string tag;
  ASSERT_TRUE(link.Consume(queue, &tag).ok());

  ASSERT_EQ(RunShell(services.Command("restart-rabbitmq"), &out), 0) << out;
  AmqpDelivery d;
  bool got = false;
  Status st = link.Poll(2s, &d, &got);
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(got);
  EXPECT_FALSE(link.connected());
  EXPECT_NE(st.message().find("320 CONNECTION_FORCED"), std::string::npos) << st.message();

  st = link.Connect(url);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(link.DeclareQueue({queue, Json::object()}, &passive).ok());
  ASSERT_TRUE(link.Consume(queue, &tag).ok());
  AmqpOutgoing m;
  m.body = "after restart";
  ASSERT_TRUE(link.Publish("", queue, m).ok());
  ASSERT_TRUE(NextDelivery(link, &d));
  EXPECT_EQ(d.body, "after restart");
}

}  // namespace
}  // namespace verdi

namespace verdi {
namespace {

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
