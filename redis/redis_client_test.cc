// RedisClient against the test run's Redis, and against private redis-servers
// started here (a password, a kill mid-session, TLS).
#include "redis/redis_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/redis_server.h"
#include "tests/test_services.h"

namespace verdi {
namespace {

using namespace std::chrono_literals;
using Type = RedisReply::Type;

using testing::FreePort;
using testing::PortOpen;
using testing::RedisServer;

RedisUrl TestUrl() {
  RedisUrl url;
  Status st = ParseRedisUrl(testing::TestRedisUrl(), &url);
  EXPECT_TRUE(st.ok()) << st.message();
  return url;
}

RedisUrl LocalUrl(int port, bool tls = false) {
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = port;
  url.tls = tls;
  return url;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = client_.Connect(TestUrl(), RedisTls(), 5s);
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_TRUE(client_.connected());
    key_ = "verdi-test:" +
           std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    RedisReply reply;
    ASSERT_TRUE(client_.Command({"DEL", key_}, &reply).ok());
  }
  RedisClient client_;
  std::string key_;
};

TEST_F(RedisClientTest, SetGetBinaryValue) {
  const std::string value("a\0b\r\nc\r\n$3\r\n\xff", 13);
  RedisReply reply;
  ASSERT_TRUE(client_.Command({"SET", key_, value}, &reply).ok());
  EXPECT_EQ(reply.type, Type::kStatus);
  EXPECT_EQ(reply.str, "OK");
  ASSERT_TRUE(client_.Command({"GET", key_}, &reply).ok());
  EXPECT_EQ(reply.type, Type::kString);
  EXPECT_EQ(reply.str.size(), 13u);
  EXPECT_EQ(reply.str, value);
}

TEST_F(RedisClientTest, IncrGivesIntegers) {
  RedisReply reply;
  ASSERT_TRUE(client_.Command({"INCR", key_}, &reply).ok());
  EXPECT_EQ(reply.type, Type::kInteger);
  EXPECT_EQ(reply.integer, 1);
  ASSERT_TRUE(client_.Command({"INCRBY", key_, "41"}, &reply).ok());
  EXPECT_EQ(reply.integer, 42);
}

TEST_F(RedisClientTest, MissingKeyIsNil) {
  RedisReply reply;
  reply.type = Type::kString;
  ASSERT_TRUE(client_.Command({"GET", key_}, &reply).ok());
  EXPECT_EQ(reply.type, Type::kNil);
}

TEST_F(RedisClientTest, LrangeGivesAnArray) {
  RedisReply reply;
  ASSERT_TRUE(client_.Command({"RPUSH", key_, "x", "", "zz"}, &reply).ok());
  EXPECT_EQ(reply.integer, 3);
  ASSERT_TRUE(client_.Command({"LRANGE", key_, "0", "-1"}, &reply).ok());
  ASSERT_EQ(reply.type, Type::kArray);
  ASSERT_EQ(reply.elements.size(), 3u);
  EXPECT_EQ(reply.elements[0].str, "x");
  EXPECT_EQ(reply.elements[1].type, Type::kString);
  EXPECT_EQ(reply.elements[1].str, "");
  EXPECT_EQ(reply.elements[2].str, "zz");
}

TEST_F(RedisClientTest, ErrorReplyIsAReplyNotAFailure) {
  RedisReply reply;
  ASSERT_TRUE(client_.Command({"SET", key_, "text"}, &reply).ok());
  Status st = client_.Command({"LPUSH", key_, "x"}, &reply);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(reply.type, Type::kError);
  EXPECT_EQ(reply.str.rfind("WRONGTYPE", 0), 0u) << reply.str;
  EXPECT_TRUE(client_.connected());
  ASSERT_TRUE(client_.Command({"GET", key_}, &reply).ok());
  EXPECT_EQ(reply.str, "text");
}

TEST_F(RedisClientTest, PipelineRepliesInOrder) {
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 100; ++i) commands.push_back({"RPUSH", key_, "v" + std::to_string(i)});
  std::vector<RedisReply> replies;
  ASSERT_TRUE(client_.Pipeline(commands, &replies).ok());
  ASSERT_EQ(replies.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(replies[i].type, Type::kInteger);
    EXPECT_EQ(replies[i].integer, i + 1);
  }
  RedisReply reply;
  ASSERT_TRUE(client_.Command({"LINDEX", key_, "99"}, &reply).ok());
  EXPECT_EQ(reply.str, "v99");
}

TEST_F(RedisClientTest, LargeValueRoundTrips) {
  std::string value(3 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 7);
  RedisReply reply;
  ASSERT_TRUE(client_.Command({"SET", key_, value}, &reply).ok());
  ASSERT_TRUE(client_.Command({"GET", key_}, &reply).ok());
  EXPECT_EQ(reply.str.size(), value.size());
  EXPECT_TRUE(reply.str == value);
}

TEST_F(RedisClientTest, SubscribeReceivesPublishedMessage) {
  RedisClient subscriber;
  ASSERT_TRUE(subscriber.Connect(TestUrl(), RedisTls(), 5s).ok());
  RedisReply reply;
  ASSERT_TRUE(subscriber.Command({"SUBSCRIBE", key_}, &reply).ok());
  ASSERT_EQ(reply.elements.size(), 3u);
  EXPECT_EQ(reply.elements[0].str, "subscribe");
  ASSERT_TRUE(client_.Command({"PUBLISH", key_, "hello"}, &reply).ok());
  EXPECT_EQ(reply.integer, 1);
  ASSERT_TRUE(subscriber.Receive(&reply).ok());
  ASSERT_EQ(reply.elements.size(), 3u);
  EXPECT_EQ(reply.elements[0].str, "message");
  EXPECT_EQ(reply.elements[1].str, key_);
  EXPECT_EQ(reply.elements[2].str, "hello");
}

TEST(RedisClientConnectTest, ClosedPortIsAnIOErrorNamingHostPort) {
  int port = FreePort();
  RedisClient client;
  Status st = client.Connect(LocalUrl(port), RedisTls(), 2s);
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_EQ(st.message(),
            "redis: connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_FALSE(client.connected());
  RedisReply reply;
  EXPECT_TRUE(client.Command({"PING"}, &reply).IsIOError());
}

TEST(RedisClientConnectTest, AuthAndSelect) {
  RedisServer server(FreePort(), {"--requirepass", "right pw"});
  RedisUrl url = LocalUrl(server.port());
  url.password = "wrong";
  RedisClient client;
  Status st = client.Connect(url, RedisTls(), 5s);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("AUTH failed: WRONGPASS"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("wrong"), std::string::npos) << "password leaked: " << st.message();
  EXPECT_FALSE(client.connected());

  url.password = "right pw";
  url.db = 5;
  st = client.Connect(url, RedisTls(), 5s);
  ASSERT_TRUE(st.ok()) << st.message();
  RedisReply reply;
  ASSERT_TRUE(client.Command({"CLIENT", "INFO"}, &reply).ok());
  EXPECT_NE(reply.str.find(" db=5 "), std::string::npos) << reply.str;

  url.db = 99;
  st = client.Connect(url, RedisTls(), 5s);
  EXPECT_NE(st.message().find("SELECT 99 failed: ERR"), std::string::npos) << st.message();
}

TEST(RedisClientConnectTest, ServerKilledMidSessionThenReconnect) {
  int port = FreePort();
  auto server = std::make_unique<RedisServer>(port, std::vector<std::string>{});
  RedisClient client;
  ASSERT_TRUE(client.Connect(LocalUrl(port), RedisTls(), 2s).ok());
  RedisReply reply;
  ASSERT_TRUE(client.Command({"SET", "k", "v"}, &reply).ok());
  server->Kill();
  Status st = client.Command({"GET", "k"}, &reply);
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_FALSE(client.connected());

  server = std::make_unique<RedisServer>(port, std::vector<std::string>{});
  ASSERT_TRUE(client.Connect(LocalUrl(port), RedisTls(), 2s).ok());
  ASSERT_TRUE(client.Command({"PING"}, &reply).ok());
  EXPECT_EQ(reply.str, "PONG");
}

TEST(RedisClientConnectTest, SilentServerTimesOut) {
  // A listening socket that never answers: the reply times out.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  RedisUrl url = LocalUrl(ntohs(addr.sin_port));
  url.password = "pw";  // so Connect waits for the AUTH reply
  RedisClient client;
  auto start = std::chrono::steady_clock::now();
  Status st = client.Connect(url, RedisTls(), 300ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_NE(st.message().find("took more than 300 ms"), std::string::npos) << st.message();
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
  close(fd);
}

/// A CA, a server certificate for IP 127.0.0.1 signed by it, and another CA.
class RedisClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("verdi-redis-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::string d = dir_.string();
    std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::string script =
        "cd " + d + " && exec >openssl.log 2>&1 && set -e\n" + "openssl req -x509 -days 1" + ec +
        " -keyout ca.key -out ca.crt -subj /CN=verdi-ca\n" + "openssl req -x509 -days 1" + ec +
        " -keyout other.key -out other.crt -subj /CN=other\n" + "openssl req" + ec +
        " -keyout server.key -out server.csr -subj /CN=127.0.0.1\n" +
        "echo subjectAltName=IP:127.0.0.1 >ext.cnf\n" +
        "openssl x509 -req -days 1 -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
        " -extfile ext.cnf -out server.crt\n";
    ASSERT_EQ(std::system(script.c_str()), 0) << "see " << d << "/openssl.log";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  void SetUp() override {
    std::string d = dir_.string();
    server_ = std::make_unique<RedisServer>(
        FreePort(),
        std::vector<std::string>{"--tls-cert-file", d + "/server.crt", "--tls-key-file",
                                 d + "/server.key", "--tls-ca-cert-file", d + "/ca.crt",
                                 "--tls-auth-clients", "no"},
        /*tls=*/true);
  }

  Status ConnectAndPing(const RedisUrl& url, const std::string& ca) {
    RedisTls tls;
    tls.ca_file = ca;
    RedisClient client;
    VERDI_RETURN_IF_ERROR(client.Connect(url, tls, 3s));
    RedisReply reply;
    std::string big(200000, 'x');
    VERDI_RETURN_IF_ERROR(client.Command({"SET", "tls-key", big}, &reply));
    VERDI_RETURN_IF_ERROR(client.Command({"GET", "tls-key"}, &reply));
    if (reply.str != big) return Status::Failed("GET over TLS returned the wrong value");
    return Status::OK();
  }

  static inline std::filesystem::path dir_;
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisClientTlsTest, VerifiedWithTheCaFile) {
  Status st = ConnectAndPing(LocalUrl(server_->port(), true), (dir_ / "ca.crt").string());
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST_F(RedisClientTlsTest, UnknownCaFailsVerification) {
  Status st = ConnectAndPing(LocalUrl(server_->port(), true), (dir_ / "other.crt").string());
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_NE(st.message().find("certificate verify failed"), std::string::npos) << st.message();
}

TEST_F(RedisClientTlsTest, HostNameIsChecked) {
  RedisUrl url = LocalUrl(server_->port(), true);
  url.host = "localhost";  // the certificate is for IP 127.0.0.1 only
  Status st = ConnectAndPing(url, (dir_ / "ca.crt").string());
  EXPECT_NE(st.message().find("hostname mismatch"), std::string::npos) << st.message();
}

TEST_F(RedisClientTlsTest, CertReqsNoneSkipsVerification) {
  RedisUrl url;
  std::string text =
      "rediss://127.0.0.1:" + std::to_string(server_->port()) + "/0?ssl_cert_reqs=CERT_NONE";
  ASSERT_TRUE(ParseRedisUrl(text, &url).ok());
  Status st = ConnectAndPing(url, (dir_ / "other.crt").string());
  EXPECT_TRUE(st.ok()) << st.message();
}

}  // namespace
}  // namespace verdi
