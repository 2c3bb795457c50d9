// Helpers shared by the tests of AmqpLink against a real RabbitMQ
// (tests/services.py): unique names, Python's Celery/kombu as a client, and a
// fixture with a connected link.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/test_services.h"
#include "verdi/amqp/link.h"

namespace verdi::amqp_testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::string UniqueName(const std::string& what) {
  static int counter = 0;
  return fmt::format("verdi-test-{}-{}-{}", getpid(), ++counter, what);
}

inline AmqpUrl UrlOf(const std::string& text) {
  AmqpUrl url;
  Status st = ParseAmqpUrl(text, &url);
  EXPECT_TRUE(st.ok()) << st.message();
  return url;
}

// Runs `command` through the shell; returns its exit status, output in *out.
inline int RunShell(const std::string& command, std::string* out) {
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
inline void RunPython(const std::string& script, const std::string& url, const std::string& queue) {
  fs::path file = fs::temp_directory_path() / (UniqueName("script") + ".py");
  std::ofstream(file) << script;
  std::string out;
  int rc =
      RunShell(fmt::format("/usr/bin/python3 '{}' '{}' '{}'", file.string(), url, queue), &out);
  fs::remove(file);
  ASSERT_EQ(rc, 0) << out;
}

// Polls until a delivery arrives or `within` has passed.
inline bool NextDelivery(AmqpLink& link, AmqpDelivery* d, std::chrono::milliseconds within = 5s) {
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
inline std::vector<AmqpDelivery> Drain(AmqpLink& link, std::chrono::milliseconds within) {
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

}  // namespace verdi::amqp_testing
