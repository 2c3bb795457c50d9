// StatusSink against the test run's Redis, and against private redis-servers
// started here (killed and restarted on the same port, or never started).
#include "events/status_sink.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "events/job_status_doc.h"
#include "tests/redis_server.h"
#include "tests/test_services.h"

namespace verdi {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

using testing::FreePort;
using testing::PortOpen;
using testing::RedisServer;

std::string LocalUrl(int port) { return "redis://127.0.0.1:" + std::to_string(port) + "/0"; }

/// The sink's log lines, kept for the test to check.
class LogCapture {
 public:
  EventLogFn fn() {
    return [this](LogLevel level, const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back({level, line});
    };
  }
  /// How many lines contain `text`.
  int Count(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [level, line] : lines_) n += line.find(text) != std::string::npos;
    return n;
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string all;
    for (const auto& [level, line] : lines_)
      all += std::to_string(static_cast<int>(level)) + " " + line + "\n";
    return all;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

/// "verdi-test:StatusSink:<test name>:<suffix>".
std::string TestKey(const std::string& suffix) {
  return "verdi-test:StatusSink:" +
         std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ":" +
         suffix;
}

/// One command on a fresh connection to `url`.
RedisReply Redis(const std::string& url, const std::vector<std::string>& argv) {
  RedisUrl parsed;
  EXPECT_TRUE(ParseRedisUrl(url, &parsed).ok());
  RedisClient client;
  Status st = client.Connect(parsed, RedisTls(), 5s);
  EXPECT_TRUE(st.ok()) << st.message();
  RedisReply reply;
  st = client.Command(argv, &reply);
  EXPECT_TRUE(st.ok()) << st.message();
  return reply;
}

/// The documents of the list `key`, decoded from msgpack.
std::vector<Json> ReadList(const std::string& url, const std::string& key) {
  RedisReply reply = Redis(url, {"LRANGE", key, "0", "-1"});
  std::vector<Json> docs;
  for (const RedisReply& element : reply.elements) docs.push_back(Json::from_msgpack(element.str));
  return docs;
}

/// Producers never wait for Redis: each call is expected under 1 ms. One
/// outlier under 10 ms is tolerated (the scheduler on a loaded 2-core
/// machine); waiting for Redis would take a backoff or a timeout (>= 20 ms).
void ExpectQuick(const std::vector<SteadyClock::duration>& times) {
  int slow = 0;
  SteadyClock::duration slowest{0};
  for (SteadyClock::duration t : times) {
    slow += t >= 1ms;
    slowest = std::max(slowest, t);
  }
  EXPECT_LE(slow, 1) << "calls of 1 ms or more";
  EXPECT_LT(slowest, 10ms);
  std::printf("[ timing   ] slowest of %zu calls: %.3f ms\n", times.size(),
              std::chrono::duration<double, std::milli>(slowest).count());
}

/// A small status document: job `n` of this test in `status`.
Json Doc(const std::string& uuid, const std::string& status, int n = 0) {
  return Json{{"uuid", uuid}, {"status", status}, {"resource", "job"}, {"n", n}};
}

std::unique_ptr<StatusSink> MakeSink(StatusSinkOptions options) {
  std::unique_ptr<StatusSink> sink;
  Status st = StatusSink::Make(options, &sink);
  EXPECT_TRUE(st.ok()) << st.message();
  return sink;
}

TEST(StatusSink, MakeChecksUrls) {
  std::unique_ptr<StatusSink> sink;
  StatusSinkOptions options;
  EXPECT_TRUE(StatusSink::Make(options, &sink).IsInvalid());
  options.status_url = "http://user:secret@host:1/";
  Status st = StatusSink::Make(options, &sink);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message().rfind("status_url: ", 0), 0u) << st.message();
  EXPECT_EQ(st.message().find("secret"), std::string::npos) << st.message();
  options.status_url = "redis://127.0.0.1:1/0";
  options.info_url = "redis://h:notaport/0";
  EXPECT_TRUE(StatusSink::Make(options, &sink).IsInvalid());
  options.info_url = "";
  EXPECT_TRUE(StatusSink::Make(options, &sink).ok());  // connects lazily
}

TEST(StatusSink, DeliversInOrderWithKeyTtlAndMsgpack) {
  const std::string url = testing::TestRedisUrl();
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.status_key = TestKey("status");
  options.info_url = url;
  options.info_key = TestKey("info");
  options.hostname = "node1.example.com";
  options.log = log.fn();
  const std::string uuid = TestKey("uuid");
  Redis(url, {"DEL", options.status_key, options.info_key, "hysds-job-status-" + uuid});
  auto sink = MakeSink(options);

  std::vector<Json> sent = {Doc(uuid, "job-started", 1), Doc(uuid, "job-started", 2)};
  Json info = {{"type", "job_info"}, {"job", {{"job_id", "j"}}}};
  for (const Json& doc : sent) EXPECT_TRUE(sink->LogJobStatus(doc, 100000));
  EXPECT_TRUE(sink->LogJobInfo(info));
  EXPECT_TRUE(sink->LogCustomEvent("worker_anomaly", "job_drain", Json{{"count", 11}}, {"t"}));
  sent.push_back(Doc(uuid, "job-completed", 3));
  EXPECT_TRUE(sink->LogJobStatus(sent.back(), 90000));
  ASSERT_TRUE(sink->Flush(10s)) << log.All();

  std::vector<Json> got = ReadList(url, options.status_key);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], sent[0]);
  EXPECT_EQ(got[1], sent[1]);
  EXPECT_EQ(got[2]["resource"], "event");
  EXPECT_EQ(got[2]["type"], "worker_anomaly");
  EXPECT_EQ(got[2]["status"], "job_drain");
  EXPECT_EQ(got[2]["hostname"], "node1.example.com");
  EXPECT_EQ(got[2]["tags"], Json::parse(R"(["t"])"));
  EXPECT_EQ(got[2]["event"], Json::parse(R"({"count": 11})"));
  EXPECT_EQ(got[2]["uuid"].get<std::string>().size(), 36u);
  EXPECT_EQ(got[2]["uuid"].get<std::string>()[14], '4');
  EXPECT_EQ(got[3], sent[2]);
  EXPECT_EQ(ReadList(url, options.info_key), std::vector<Json>{info});

  EXPECT_EQ(Redis(url, {"GET", "hysds-job-status-" + uuid}).str, "job-completed");
  long long ttl = Redis(url, {"TTL", "hysds-job-status-" + uuid}).integer;
  EXPECT_GT(ttl, 89990);
  EXPECT_LE(ttl, 90000);

  StatusSinkStats stats = sink->stats();
  EXPECT_EQ(stats.accepted, 5u);
  EXPECT_EQ(stats.delivered, 5u);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.dropped + stats.rejected + stats.guarded, 0u);
  Redis(url, {"DEL", options.status_key, options.info_key, "hysds-job-status-" + uuid});
}

TEST(StatusSink, TerminalThenStartedKeepsOnlyTheTerminal) {
  const std::string url = testing::TestRedisUrl();
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.status_key = TestKey("status");
  options.log = log.fn();
  const std::string uuid = TestKey("uuid");
  Redis(url, {"DEL", options.status_key});
  auto sink = MakeSink(options);

  EXPECT_TRUE(sink->LogJobStatus(Doc(uuid, "job-completed"), 86400));
  EXPECT_FALSE(sink->LogJobStatus(Doc(uuid, "job-started"), 86400));
  EXPECT_TRUE(sink->LogJobStatus(Doc(uuid + "-other", "job-started"), 86400));  // another job
  ASSERT_TRUE(sink->Flush(10s)) << log.All();

  std::vector<Json> got = ReadList(url, options.status_key);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["status"], "job-completed");
  EXPECT_EQ(got[1]["uuid"], uuid + "-other");
  EXPECT_EQ(Redis(url, {"GET", "hysds-job-status-" + uuid}).str, "job-completed");
  EXPECT_EQ(sink->stats().guarded, 1u);
  EXPECT_EQ(log.Count("job-started for " + uuid + " dropped: a terminal status"), 1) << log.All();
  Redis(url, {"DEL", options.status_key, "hysds-job-status-" + uuid,
              "hysds-job-status-" + uuid + "-other"});
}

/// Polls `until` for at most `within`.
bool Eventually(const std::function<bool()>& until, std::chrono::milliseconds within = 10s) {
  auto deadline = SteadyClock::now() + within;
  while (SteadyClock::now() < deadline) {
    if (until()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return until();
}

TEST(StatusSink, ALateQueuedWriteAfterTheTerminalStatusIsOverwritten) {
  // HySDS's orchestrator logs job-queued (SETEX, then RPUSH) only once its
  // publish is confirmed: after a fast job's terminal status.
  const std::string url = testing::TestRedisUrl();
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.status_key = TestKey("status");
  options.watch_window = 5s;
  options.watch_settle = 300ms;
  options.log = log.fn();
  const std::string uuid = TestKey("uuid"), key = "hysds-job-status-" + uuid;
  Redis(url, {"DEL", options.status_key, key});
  auto sink = MakeSink(options);
  Json done = Doc(uuid, "job-completed");
  done["payload_id"] = "payload-1";
  ASSERT_TRUE(sink->LogJobStatus(done, 1000));
  ASSERT_TRUE(sink->Flush(5s));
  std::this_thread::sleep_for(100ms);
  Json queued = Doc(uuid, "job-queued");
  queued["payload_id"] = "payload-1";
  Redis(url, {"SETEX", key, "1000", "job-queued"});
  std::this_thread::sleep_for(150ms);  // the late writer's RPUSH lags its SETEX
  std::string packed;
  std::vector<uint8_t> bytes = Json::to_msgpack(queued);
  packed.assign(bytes.begin(), bytes.end());
  Redis(url, {"RPUSH", options.status_key, packed});

  ASSERT_TRUE(Eventually([&] {
    std::vector<Json> docs = ReadList(url, options.status_key);
    return Redis(url, {"GET", key}).str == "job-completed" && docs.size() >= 4 &&
           docs.back()["status"] == "job-completed";
  })) << log.All();
  // Sent again when seen, and once more after watch_settle.
  std::vector<Json> docs = ReadList(url, options.status_key);
  std::vector<std::string> statuses;
  for (const Json& d : docs) statuses.push_back(d["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"job-completed", "job-completed", "job-queued",
                                                "job-completed"}))
      << log.All();
  EXPECT_EQ(sink->stats().resent, 2u);
  EXPECT_EQ(sink->stats().watched, 1u);
  EXPECT_EQ(log.Count("became job-queued after its terminal status job-completed"), 1);
  Redis(url, {"DEL", options.status_key, key});
}

TEST(StatusSink, OnlyTerminalStatusesOfAPayloadAreWatchedAndOthersAreNotUndone) {
  const std::string url = testing::TestRedisUrl();
  StatusSinkOptions options;
  options.status_url = url;
  options.status_key = TestKey("status");
  options.watch_window = 3s;
  options.log = [](LogLevel, const std::string&) {};
  const std::string a = TestKey("a"), b = TestKey("b"), c = TestKey("c");
  Redis(url, {"DEL", options.status_key, "hysds-job-status-" + a, "hysds-job-status-" + b,
              "hysds-job-status-" + c});
  auto sink = MakeSink(options);
  Json no_payload = Doc(a, "job-completed");  // no payload_id: no document id to protect
  Json offline = Doc(b, "job-failed");
  offline["payload_id"] = "p-b";
  Json deleted = Doc(c, "job-failed");
  deleted["payload_id"] = "p-c";
  for (const Json& d : {no_payload, offline, deleted}) ASSERT_TRUE(sink->LogJobStatus(d, 1000));
  ASSERT_TRUE(sink->Flush(5s));
  EXPECT_EQ(sink->stats().watched, 2u);
  Redis(url, {"SETEX", "hysds-job-status-" + a, "1000", "job-queued"});
  Redis(url, {"SETEX", "hysds-job-status-" + b, "1000", "job-offline"});  // another terminal
  Redis(url, {"DEL", "hysds-job-status-" + c});                           // gone
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(Redis(url, {"GET", "hysds-job-status-" + a}).str, "job-queued");
  EXPECT_EQ(Redis(url, {"GET", "hysds-job-status-" + b}).str, "job-offline");
  EXPECT_EQ(Redis(url, {"GET", "hysds-job-status-" + c}).type, RedisReply::Type::kNil);
  EXPECT_EQ(sink->stats().resent, 0u);
  EXPECT_EQ(ReadList(url, options.status_key).size(), 3u);
  Redis(url, {"DEL", options.status_key, "hysds-job-status-" + a, "hysds-job-status-" + b});
}

TEST(StatusSink, BuffersWhileRedisIsDownAndDeliversInOrderWhenItReturns) {
  const int port = FreePort();
  const std::string url = LocalUrl(port);
  auto server = std::make_unique<RedisServer>(port);
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.retry_min = 20ms;
  options.retry_max = 200ms;
  options.log = log.fn();
  auto sink = MakeSink(options);
  ASSERT_TRUE(sink->LogJobStatus(Doc("before", "job-started"), 86400));
  ASSERT_TRUE(sink->Flush(10s)) << log.All();  // connected

  server->Kill();
  std::vector<SteadyClock::duration> times;
  for (int i = 0; i < 50; ++i) {
    SteadyClock::time_point start = SteadyClock::now();
    EXPECT_TRUE(sink->LogJobStatus(Doc("u" + std::to_string(i), "job-started", i), 86400));
    times.push_back(SteadyClock::now() - start);
    if (i == 10) std::this_thread::sleep_for(300ms);  // retries fail meanwhile
  }
  ExpectQuick(times);
  EXPECT_FALSE(sink->Flush(300ms));
  EXPECT_EQ(sink->stats().pending, 50u);
  EXPECT_EQ(log.Count("cannot deliver: "), 1) << log.All();

  server = std::make_unique<RedisServer>(port);
  ASSERT_TRUE(sink->Flush(10s)) << log.All();
  std::vector<Json> got = ReadList(url, "logstash");
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got[i], Doc("u" + std::to_string(i), "job-started", i));
  EXPECT_EQ(Redis(url, {"GET", "hysds-job-status-u49"}).str, "job-started");
  EXPECT_EQ(log.Count("delivering again after"), 1) << log.All();
  StatusSinkStats stats = sink->stats();
  EXPECT_EQ(stats.delivered, 51u);
  EXPECT_EQ(stats.pending, 0u);
}

// A server that accepts but never answers holds the sink's thread for a
// whole io_timeout per try; producers still do not wait. A timed-out round
// trip may have been executed after all: delivery is at least once.
TEST(StatusSink, ProducersDoNotWaitForAStalledRedis) {
  const int port = FreePort();
  const std::string url = LocalUrl(port);
  RedisServer server(port);
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.io_timeout = 300ms;
  options.retry_min = 20ms;
  options.retry_max = 100ms;
  options.log = log.fn();
  auto sink = MakeSink(options);
  ASSERT_TRUE(sink->LogJobInfo(Json{{"n", -1}}));
  ASSERT_TRUE(sink->Flush(10s)) << log.All();  // connected

  server.Stop();
  std::vector<SteadyClock::duration> times;
  for (int i = 0; i < 20; ++i) {
    SteadyClock::time_point start = SteadyClock::now();
    EXPECT_TRUE(sink->LogJobInfo(Json{{"n", i}}));
    times.push_back(SteadyClock::now() - start);
    std::this_thread::sleep_for(25ms);  // 500 ms in all: the sink times out meanwhile
  }
  ExpectQuick(times);
  EXPECT_GE(log.Count("cannot deliver: "), 1) << log.All();
  server.Continue();
  ASSERT_TRUE(sink->Flush(10s)) << log.All();

  // Every document arrived; first arrivals are in order (repeats may follow).
  std::vector<Json> got = ReadList(url, "logstash");
  int next = -1;
  for (const Json& doc : got) {
    int n = doc["n"].get<int>();
    if (n == next) ++next;
    EXPECT_LE(n, next) << "out of order: " << doc.dump();
  }
  EXPECT_EQ(next, 20);
}

TEST(StatusSink, PastTheBoundNewDocumentsAreDroppedAndReported) {
  const int port = FreePort();  // nothing listens there yet
  const std::string url = LocalUrl(port);
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.max_buffered = 5;
  options.retry_min = 20ms;
  options.retry_max = 100ms;
  options.log = log.fn();
  auto sink = MakeSink(options);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(sink->LogJobStatus(Doc("u" + std::to_string(i), "job-started", i), 86400), i < 5)
        << i;
  }
  StatusSinkStats stats = sink->stats();
  EXPECT_EQ(stats.accepted, 5u);
  EXPECT_EQ(stats.dropped, 3u);
  EXPECT_EQ(stats.pending, 5u);
  EXPECT_EQ(log.Count("buffer full (5 documents waiting): dropping new documents"), 1) << log.All();
  EXPECT_EQ(log.Count("1 dropped so far"), 1) << log.All();

  RedisServer server(port);
  ASSERT_TRUE(sink->Flush(10s)) << log.All();
  EXPECT_TRUE(sink->LogJobStatus(Doc("u8", "job-started", 8), 86400));
  EXPECT_EQ(log.Count("buffering again after dropping 3 documents (3 dropped so far)"), 1)
      << log.All();
  ASSERT_TRUE(sink->Flush(10s)) << log.All();
  std::vector<Json> got = ReadList(url, "logstash");
  ASSERT_EQ(got.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i]["n"], i);
  EXPECT_EQ(got[5]["n"], 8);
}

TEST(StatusSink, ErrorReplyRejectsTheDocumentAndGoesOn) {
  const std::string url = testing::TestRedisUrl();
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.status_key = TestKey("status");
  options.info_key = options.status_key;
  options.log = log.fn();
  Redis(url, {"SET", options.status_key, "not a list"});
  auto sink = MakeSink(options);
  EXPECT_TRUE(sink->LogJobInfo(Json{{"n", 1}}));  // no info_url: the status connection
  ASSERT_TRUE(sink->Flush(10s)) << log.All();
  EXPECT_EQ(sink->stats().rejected, 1u);
  EXPECT_EQ(log.Count("document rejected: RPUSH " + options.status_key + ": WRONGTYPE"), 1)
      << log.All();
  Redis(url, {"DEL", options.status_key});
  EXPECT_TRUE(sink->LogJobInfo(Json{{"n", 2}}));
  ASSERT_TRUE(sink->Flush(10s)) << log.All();
  EXPECT_EQ(ReadList(url, options.status_key), (std::vector<Json>{Json{{"n", 2}}}));
  Redis(url, {"DEL", options.status_key});
}

TEST(StatusSink, WhatIsLeftAtDestructionIsLoggedAsLost) {
  LogCapture log;
  {
    StatusSinkOptions options;
    options.status_url = LocalUrl(FreePort());
    options.log = log.fn();
    auto sink = MakeSink(options);
    for (int i = 0; i < 3; ++i) sink->LogJobInfo(Json{{"n", i}});
  }
  EXPECT_EQ(log.Count("stopped with 3 documents not delivered: they are lost"), 1) << log.All();
}

TEST(StatusSink, HundredThousandDocuments) {
  const std::string url = testing::TestRedisUrl();
  LogCapture log;
  StatusSinkOptions options;
  options.status_url = url;
  options.status_key = TestKey("status");
  options.max_buffered = 200000;
  options.log = log.fn();
  Redis(url, {"DEL", options.status_key});
  auto sink = MakeSink(options);
  const int n = 100000;
  std::vector<std::string> uuids;
  for (int i = 0; i < 100; ++i) uuids.push_back(TestKey("u" + std::to_string(i)));
  SteadyClock::time_point start = SteadyClock::now();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(sink->LogJobStatus(Doc(uuids[i % 100], "job-started", i), 86400));
  }
  double queued = std::chrono::duration<double>(SteadyClock::now() - start).count();
  ASSERT_TRUE(sink->Flush(300s)) << log.All();
  double total = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf("[ perf     ] %d status documents: queued in %.2fs, delivered in %.2fs (%.0f/s)\n", n,
              queued, total, n / total);
  EXPECT_EQ(Redis(url, {"LLEN", options.status_key}).integer, n);
  EXPECT_EQ(Json::from_msgpack(Redis(url, {"LINDEX", options.status_key, "-1"}).str)["n"], n - 1);
  std::vector<std::string> del = {"DEL", options.status_key};
  for (const std::string& uuid : uuids) del.push_back("hysds-job-status-" + uuid);
  Redis(url, del);
}

TEST(StatusSink, PythonReadsTheSameDocument) {
  const std::string url = testing::TestRedisUrl();
  StatusSinkOptions options;
  options.status_url = url;
  options.status_key = TestKey("status");
  Redis(url, {"DEL", options.status_key});
  Json job = Json::parse(R"({
    "task_id": "t-py", "job_id": "j\u00e9-1", "type": "job-x:1", "tag": "v",
    "params": {"f": 1.5, "tiny": 0.1, "neg": -7, "big": 18446744073709551615, "s": "",
               "long": "0123456789012345678901234567890123456789", "nested": [null, true, {}]},
    "job_info": {"job_payload": {"payload_task_id": "p"}, "payload_hash": "h", "dedup": true,
                 "time_limit": 600}})");
  StatusDetails details;
  details.error = "failed with a rather long error message, \u2603 included";
  Json doc = JobStatusDocument(job, "job-failed", "celery@w", details, WallClock::now());
  auto sink = MakeSink(options);
  ASSERT_TRUE(sink->LogJobStatus(doc, StatusTtlSeconds(job)));
  ASSERT_TRUE(sink->Flush(10s));

  const std::string script =
      "import json, sys, msgpack, redis\n"
      "r = redis.Redis.from_url(sys.argv[1])\n"
      "doc = msgpack.unpackb(r.lrange(sys.argv[2], 0, 0)[0], raw=False)\n"
      "print(json.dumps(doc))\n";
  std::string command =
      "/usr/bin/python3 -c '" + script + "' '" + url + "' '" + options.status_key + "'";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  for (size_t got; (got = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, got);
  ASSERT_EQ(pclose(pipe), 0) << out;
  EXPECT_EQ(Json::parse(out), doc) << out;
  Redis(url, {"DEL", options.status_key, "hysds-job-status-t-py"});
}

}  // namespace
}  // namespace verdi
