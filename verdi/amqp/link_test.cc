// AmqpLink's connection against a real RabbitMQ (tests/services.py):
// connecting, refusals, polling, heartbeats, a broker restart.
#include "verdi/amqp/link.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "verdi/amqp/link_testing.h"

namespace verdi {
namespace {

using namespace amqp_testing;

const fs::path kRepo = VERDI_SOURCE_DIR;

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
