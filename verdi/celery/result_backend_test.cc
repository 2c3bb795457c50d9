// The Redis result backend against the test run's Redis, and read back by
// Python Celery (Debian's /usr/bin/python3).
#include "verdi/celery/result_backend.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "jobspec/json_field.h"
#include "jobspec/uuid.h"
#include "tests/redis_server.h"
#include "tests/test_services.h"
#include "verdi/celery/result_document.h"

namespace verdi {
namespace {

using namespace std::chrono_literals;

std::string Document(const std::string& task_id, const std::string& state, const Json& result) {
  Json doc = {{"status", state},
              {"result", result},
              {"traceback", nullptr},
              {"children", Json::array()},
              {"date_done", "2026-11-26T12:00:00.000000+00:00"},
              {"task_id", task_id}};
  return doc.dump();
}

Json FailureResult() {
  return {{"exc_type", "RuntimeError"},
          {"exc_message", {"Got non-zero exit code: 3"}},
          {"exc_module", "builtins"}};
}

// Prints "RESULT <json>" or "RAISED <type> <json args> <json traceback>" for
// one task id, read by a client whose result_serializer is argv[3].
constexpr const char* kPythonGet = R"(
import json, sys
from celery import Celery
from celery.result import AsyncResult
app = Celery("verdi-test", backend=sys.argv[1])
app.conf.update(result_serializer=sys.argv[3], accept_content=["json", "msgpack"])
result = AsyncResult(sys.argv[2], app=app)
try:
    value = result.get(timeout=15)
    print("RESULT " + json.dumps(value), flush=True)
except Exception as e:
    print("RAISED %s %s %s" % (type(e).__name__, json.dumps(list(e.args)),
                               json.dumps(result.traceback)), flush=True)
)";

class RedisResultBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = testing::TestRedisUrl();
    ASSERT_TRUE(MakeRedisResultBackend(url_, &backend_).ok());
    RedisUrl parsed;
    ASSERT_TRUE(ParseRedisUrl(url_, &parsed).ok());
    Status st = redis_.Connect(parsed, RedisTls(), 5s);
    ASSERT_TRUE(st.ok()) << st.message();
    task_id_ = NewUuid4();
    key_ = "celery-task-meta-" + task_id_;
  }

  RedisReply Run(const std::vector<std::string>& argv) {
    RedisReply reply;
    Status st = redis_.Command(argv, &reply);
    EXPECT_TRUE(st.ok()) << st.message();
    return reply;
  }

  /// Starts the Python client on `task_id_`; read its line with Finish.
  FILE* StartPython(const char* result_serializer = "json") {
    script_ = std::filesystem::temp_directory_path() / ("verdi-get-" + task_id_ + ".py");
    std::ofstream(script_) << kPythonGet;
    std::string cmd = "/usr/bin/python3 " + script_.string() + " '" + url_ + "' " + task_id_ + " " +
                      result_serializer;
    return popen(cmd.c_str(), "r");
  }
  std::string Finish(FILE* python) {
    char line[4096] = "";
    if (python == nullptr || fgets(line, sizeof line, python) == nullptr) line[0] = '\0';
    if (python != nullptr) pclose(python);
    std::filesystem::remove(script_);
    std::string out(line);
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  std::string url_;
  std::unique_ptr<ResultBackend> backend_;
  RedisClient redis_;
  std::string task_id_, key_;
  std::filesystem::path script_;
};

TEST_F(RedisResultBackendTest, StoreSetsTheKeyWithTtlAndPublishes) {
  RedisClient subscriber;
  RedisUrl parsed;
  ASSERT_TRUE(ParseRedisUrl(url_, &parsed).ok());
  ASSERT_TRUE(subscriber.Connect(parsed, RedisTls(), 5s).ok());
  RedisReply reply;
  ASSERT_TRUE(subscriber.Command({"SUBSCRIBE", key_}, &reply).ok());

  std::string doc = Document(task_id_, "SUCCESS", {{"answer", 42}});
  Status st = backend_->Store(task_id_, doc, 3600);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Run({"GET", key_}).str, doc);
  long long ttl = Run({"TTL", key_}).integer;
  EXPECT_LE(ttl, 3600);
  EXPECT_GE(ttl, 3590);

  ASSERT_TRUE(subscriber.Receive(&reply).ok());
  ASSERT_EQ(reply.elements.size(), 3u);
  EXPECT_EQ(reply.elements[0].str, "message");
  EXPECT_EQ(reply.elements[1].str, key_);
  EXPECT_EQ(reply.elements[2].str, doc);
}

TEST_F(RedisResultBackendTest, NoExpiryMeansNoTtl) {
  ASSERT_TRUE(backend_->Store(task_id_, Document(task_id_, "FAILURE", FailureResult()), 0).ok());
  EXPECT_EQ(Run({"TTL", key_}).integer, -1);
  Run({"DEL", key_});
}

TEST_F(RedisResultBackendTest, SuccessIsNotOverwrittenByFailure) {
  std::string success = Document(task_id_, "SUCCESS", 1);
  ASSERT_TRUE(backend_->Store(task_id_, success, 600).ok());
  ASSERT_TRUE(backend_->Store(task_id_, Document(task_id_, "FAILURE", FailureResult()), 600).ok());
  EXPECT_EQ(Run({"GET", key_}).str, success);
}

TEST_F(RedisResultBackendTest, FailureIsOverwrittenBySuccess) {
  ASSERT_TRUE(backend_->Store(task_id_, Document(task_id_, "FAILURE", FailureResult()), 600).ok());
  std::string success = Document(task_id_, "SUCCESS", "done");
  ASSERT_TRUE(backend_->Store(task_id_, success, 600).ok());
  EXPECT_EQ(Run({"GET", key_}).str, success);
}

TEST_F(RedisResultBackendTest, GetFoundAndNotFound) {
  std::string doc = "stale";
  bool found = true;
  ASSERT_TRUE(backend_->Get(task_id_, &doc, &found).ok());
  EXPECT_FALSE(found);
  EXPECT_EQ(doc, "");
  std::string stored = Document(task_id_, "STARTED", {{"pid", 12}, {"hostname", "w@h"}});
  ASSERT_TRUE(backend_->Store(task_id_, stored, 600).ok());
  ASSERT_TRUE(backend_->Get(task_id_, &doc, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(doc, stored);
}

TEST_F(RedisResultBackendTest, PythonCeleryReadsAStoredSuccess) {
  Json result = {{"exit_code", 0}, {"files", {"a.txt", "b.txt"}}};
  ASSERT_TRUE(backend_->Store(task_id_, Document(task_id_, "SUCCESS", result), 600).ok());
  EXPECT_EQ(Finish(StartPython()), R"(RESULT {"exit_code": 0, "files": ["a.txt", "b.txt"]})");
}

TEST_F(RedisResultBackendTest, PythonCeleryRaisesAStoredFailure) {
  ASSERT_TRUE(backend_->Store(task_id_, Document(task_id_, "FAILURE", FailureResult()), 600).ok());
  EXPECT_EQ(Finish(StartPython()), "RAISED RuntimeError [\"Got non-zero exit code: 3\"] null");
}

// HySDS's clients: result_serializer = "msgpack" reads the raw msgpack value.
TEST_F(RedisResultBackendTest, PythonCeleryWithMsgpackReadsMsgpackResults) {
  TaskMessage request;
  Json result = {{"exit_code", 0}, {"files", {"a.txt"}}};
  std::string doc = EncodeResult(Serializer::kMsgpack, task_id_, "SUCCESS", result, nullptr,
                                 &request, WallClock::now());
  ASSERT_TRUE(backend_->Store(task_id_, doc, 600).ok());
  EXPECT_EQ(Finish(StartPython("msgpack")), R"(RESULT {"exit_code": 0, "files": ["a.txt"]})");
}

TEST_F(RedisResultBackendTest, PythonCeleryWithMsgpackRaisesAMsgpackFailure) {
  TaskMessage request;
  std::string doc = EncodeResult(Serializer::kMsgpack, task_id_, "FAILURE", FailureResult(),
                                 "the traceback\n", &request, WallClock::now());
  ASSERT_TRUE(backend_->Store(task_id_, doc, 600).ok());
  EXPECT_EQ(Finish(StartPython("msgpack")),
            "RAISED RuntimeError [\"Got non-zero exit code: 3\"] \"the traceback\\n\"");
}

TEST_F(RedisResultBackendTest, AMsgpackSuccessIsNotOverwritten) {
  TaskMessage request;
  std::string success = EncodeResult(Serializer::kMsgpack, task_id_, "SUCCESS", 1, nullptr,
                                     &request, WallClock::now());
  ASSERT_TRUE(backend_->Store(task_id_, success, 600).ok());
  ASSERT_TRUE(backend_->Store(task_id_, Document(task_id_, "FAILURE", FailureResult()), 600).ok());
  EXPECT_EQ(Run({"GET", key_}).str, success);
}

TEST_F(RedisResultBackendTest, WaitingPythonCeleryGetsThePublish) {
  FILE* python = StartPython();
  ASSERT_NE(python, nullptr);
  // Celery subscribes to the key's channel before it GETs and waits.
  long long subscribers = 0;
  for (int i = 0; i < 200 && subscribers == 0; ++i) {
    RedisReply reply = Run({"PUBSUB", "NUMSUB", key_});
    if (reply.elements.size() == 2) subscribers = reply.elements[1].integer;
    if (subscribers == 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(subscribers, 1);
  std::this_thread::sleep_for(300ms);  // let its first GET find nothing
  ASSERT_TRUE(backend_->Store(task_id_, Document(task_id_, "SUCCESS", 7), 600).ok());
  EXPECT_EQ(Finish(python), "RESULT 7");
}

TEST(RedisResultBackendRetryTest, ClosedPortFailsAfterMaxAttemptsWithBackoff) {
  int port = testing::FreePort();  // nothing listens there
  std::string url = "redis://:hunter2@127.0.0.1:" + std::to_string(port) + "/0";

  RedisResultBackendOptions options;
  options.max_attempts = 3;
  std::unique_ptr<ResultBackend> backend;
  ASSERT_TRUE(MakeRedisResultBackend(url, options, &backend).ok());
  ::testing::internal::CaptureStderr();
  auto start = std::chrono::steady_clock::now();
  Status st = backend->Store("t-1", "{}", 60);
  auto took = std::chrono::steady_clock::now() - start;
  std::string log = ::testing::internal::GetCapturedStderr();

  EXPECT_TRUE(st.IsIOError()) << st.message();
  std::string redacted = "redis://:***@127.0.0.1:" + std::to_string(port) + "/0";
  EXPECT_EQ(st.message().rfind("result backend " + redacted +
                                   ": storing the result of task t-1 failed after 3 attempts: ",
                               0),
            0u)
      << st.message();
  EXPECT_NE(st.message().find("Connection refused"), std::string::npos) << st.message();
  for (const char* line : {"attempt 1/3 failed", "retrying in 100 ms", "attempt 2/3 failed",
                           "retrying in 200 ms", "attempt 3/3 failed"}) {
    EXPECT_NE(log.find(line), std::string::npos) << line << " not in:\n" << log;
  }
  EXPECT_NE(log.find("giving up"), std::string::npos) << log;
  EXPECT_EQ(log.find("hunter2"), std::string::npos) << "password in the log:\n" << log;
  EXPECT_GE(took, 300ms);  // 100 ms + 200 ms of backoff
  EXPECT_LT(took, 3s);
}

TEST(RedisResultBackendRetryTest, BadUrlIsInvalid) {
  std::unique_ptr<ResultBackend> backend;
  Status st = MakeRedisResultBackend("redis://:pw@h:99999/0", &backend);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_EQ(st.message(), "result_backend: redis://:***@h:99999/0: bad port '99999'");
  EXPECT_EQ(backend, nullptr);
}

}  // namespace
}  // namespace verdi
