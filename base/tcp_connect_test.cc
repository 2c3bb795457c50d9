#include "base/tcp_connect.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// A TCP socket bound to a free port of 127.0.0.1, listening unless told not to.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(int backlog, bool listening = true) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listening) {
      EXPECT_EQ(listen(fd_, backlog), 0);
    }
  }
  ~LoopbackSocket() { close(fd_); }
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ConnectTcpTest, HostPortBracketsIpv6) {
  EXPECT_EQ(HostPort("127.0.0.1", 5672), "127.0.0.1:5672");
  EXPECT_EQ(HostPort("rabbit.local", 1), "rabbit.local:1");
  EXPECT_EQ(HostPort("::1", 6379), "[::1]:6379");
}

TEST(ConnectTcpTest, IpLiteralsAreAddressesNotNames) {
  EXPECT_TRUE(IsIpLiteral("127.0.0.1"));
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_TRUE(IsIpLiteral("fe80::1:2"));
  EXPECT_FALSE(IsIpLiteral("localhost"));
  EXPECT_FALSE(IsIpLiteral("redis.example.com"));
  EXPECT_FALSE(IsIpLiteral("127.0.0.1:6379"));
  EXPECT_FALSE(IsIpLiteral("[::1]"));
  EXPECT_FALSE(IsIpLiteral(""));
}

TEST(ConnectTcpTest, ARefusedPortIsAnIOErrorNamingHostPort) {
  LoopbackSocket closed(0, /*listening=*/false);  // bound, not listening: refused
  int fd = -1;
  Status st = ConnectTcp("127.0.0.1", closed.port(), 2s, &fd);
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_EQ(st.message(),
            "connect to 127.0.0.1:" + std::to_string(closed.port()) + ": Connection refused");
  EXPECT_EQ(fd, -1);
}

TEST(ConnectTcpTest, AListeningLoopbackSocketAccepts) {
  LoopbackSocket server(4);
  int fd = -1;
  Status st = ConnectTcp("127.0.0.1", server.port(), 2s, &fd);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);
  int peer = accept(server.fd(), nullptr, nullptr);
  ASSERT_GE(peer, 0);
  ASSERT_EQ(write(peer, "x", 1), 1);
  char c = 0;
  for (auto end = Clock::now() + 2s; read(fd, &c, 1) != 1 && Clock::now() < end;) usleep(1000);
  EXPECT_EQ(c, 'x');
  close(peer);
  close(fd);
}

TEST(ConnectTcpTest, LocalhostResolves) {
  LoopbackSocket server(4);
  int fd = -1;
  Status st = ConnectTcp("localhost", server.port(), 2s, &fd);
  // localhost may resolve to ::1 first, which refuses: the next address is tried.
  ASSERT_TRUE(st.ok()) << st.message();
  close(fd);
}

TEST(ConnectTcpTest, AFullBacklogTimesOut) {
  // Once the accept queue of a listener is full, Linux drops new SYNs: the
  // connect hangs until the timeout.
  LoopbackSocket server(0);
  std::vector<int> connected;
  Status st;
  Clock::duration took{};
  for (int i = 0; i < 8 && st.ok(); ++i) {
    int fd = -1;
    auto start = Clock::now();
    st = ConnectTcp("127.0.0.1", server.port(), 300ms, &fd);
    took = Clock::now() - start;
    if (st.ok()) connected.push_back(fd);
  }
  for (int fd : connected) close(fd);
  if (st.ok()) GTEST_SKIP() << "this kernel accepted 8 connections into a backlog of 0";
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_EQ(st.message(), "connect to 127.0.0.1:" + std::to_string(server.port()) +
                              ": took more than 300 ms: Connection timed out");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace verdi
