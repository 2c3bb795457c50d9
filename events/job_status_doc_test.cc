#include "events/job_status_doc.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

// 2024-01-02T03:04:05.678901Z
const WallClock::time_point kNow{std::chrono::microseconds(1704164645678901)};

Json SampleJob() {
  return Json::parse(R"({
    "job_id": "hello-20240101T000000.1Z", "name": "hello", "type": "job-hello:master",
    "task_id": "t-1", "tag": "v1", "priority": 3, "params": {"x": 1}, "context": {"c": 1},
    "delivery_info": {"routing_key": "q"},
    "job_info": {"job_payload": {"payload_task_id": "p-1"}, "payload_hash": "abc",
                 "dedup": false, "time_limit": 100}})");
}

/// The fields every status document of SampleJob has.
Json Base(const std::string& status) {
  Json doc = Json::parse(R"({
    "uuid": "t-1", "job_id": "hello-20240101T000000.1Z", "payload_id": "p-1",
    "payload_hash": "abc", "dedup": false, "celery_hostname": "celery@w1",
    "resource": "job", "type": "job-hello:master", "@version": "1",
    "@timestamp": "2024-01-02T03:04:05.678901Z", "tags": ["v1"]})");
  doc["status"] = status;
  doc["job"] = SampleJob();
  return doc;
}

TEST(JobStatusDoc, Completed) {
  Json doc = JobStatusDocument(SampleJob(), "job-completed", "celery@w1", {}, kNow);
  EXPECT_EQ(doc, Base("job-completed")) << doc.dump(2);
  EXPECT_FALSE(doc.contains("context"));
  EXPECT_TRUE(doc["job"].contains("context"));  // the job itself is left whole
}

TEST(JobStatusDoc, FailedShortErrorAt35And36Chars) {
  const std::string e35 = "abcdefghijklmnopqrstuvwxyz012345678";
  const std::string e36 = e35 + "9";
  ASSERT_EQ(e35.size(), 35u);
  StatusDetails details;
  details.error = e35;
  details.traceback = "Traceback (most recent call last): ...";
  Json doc = JobStatusDocument(SampleJob(), "job-failed", "celery@w1", details, kNow);
  Json expected = Base("job-failed");
  expected["error"] = e35;
  expected["short_error"] = e35;
  expected["traceback"] = "Traceback (most recent call last): ...";
  EXPECT_EQ(doc, expected) << doc.dump(2);

  details.error = e36;
  doc = JobStatusDocument(SampleJob(), "job-failed", "celery@w1", details, kNow);
  expected["error"] = e36;
  expected["short_error"] = "abcdefghijklmnopqrst.....0123456789";
  EXPECT_EQ(doc, expected) << doc.dump(2);
}

TEST(JobStatusDoc, ShortErrorCountsCodePointsNotBytes) {
  // 36 code points, 41 bytes: Python cuts after the 20th and keeps the last 10;
  // ShortError on the bytes would cut the snowman in two.
  const std::string error = "\u00e9\u00e9\u00e9 abcdefghijklmnopqrstuvwxyz01 \u2603 z";
  StatusDetails details;
  details.error = error;
  Json doc = JobStatusDocument(SampleJob(), "job-failed", "h", details, kNow);
  EXPECT_EQ(doc["short_error"], "\u00e9\u00e9\u00e9 abcdefghijklmnop.....wxyz01 \u2603 z");
  details.error = "\u2603\u2603\u2603 only 35 code points, 41 bytes!!";
  EXPECT_EQ(JobStatusDocument(SampleJob(), "job-failed", "h", details, kNow)["short_error"],
            details.error);
}

TEST(JobStatusDoc, SignalHasSignumAndErrorAsTraceback) {
  StatusDetails details;
  details.error = "Signal handler for run_job() caught signal 15.";
  details.signum = 15;
  Json doc = JobStatusDocument(SampleJob(), "job-terminated", "celery@w1", details, kNow);
  Json expected = Base("job-terminated");
  expected["error"] = details.error;
  expected["short_error"] = "Signal handler for r.....signal 15.";
  expected["traceback"] = details.error;
  expected["signum"] = 15;
  EXPECT_EQ(doc, expected) << doc.dump(2);
}

TEST(JobStatusDoc, RevokedWhileQueuedHasSignumZero) {
  StatusDetails details;
  details.signum = 0;
  Json doc = JobStatusDocument(SampleJob(), "job-revoked", "celery@w1", details, kNow);
  ASSERT_TRUE(doc.contains("signum"));
  EXPECT_EQ(doc["signum"], 0);
  EXPECT_FALSE(JobStatusDocument(SampleJob(), "job-started", "h", {}, kNow).contains("signum"));
}

TEST(JobStatusDoc, Deduped) {
  StatusDetails details;
  details.dedup_job = "t-0";
  details.dedup_msg = "Found duplicate job t-0";
  Json doc = JobStatusDocument(SampleJob(), "job-deduped", "celery@w1", details, kNow);
  Json expected = Base("job-deduped");
  expected["dedup_job"] = "t-0";
  expected["dedup_msg"] = "Found duplicate job t-0";
  EXPECT_EQ(doc, expected) << doc.dump(2);

  details.dedup_job.clear();  // HySDS's redelivery lock path: a message, no job
  doc = JobStatusDocument(SampleJob(), "job-deduped", "celery@w1", details, kNow);
  EXPECT_TRUE(doc["dedup_job"].is_null());
  EXPECT_EQ(doc["dedup_msg"], "Found duplicate job t-0");
}

TEST(JobStatusDoc, MsgAndMsgDetails) {
  StatusDetails details;
  details.msg = {"first", "second"};
  details.msg_details = "all the details";
  Json doc = JobStatusDocument(SampleJob(), "job-completed", "celery@w1", details, kNow);
  EXPECT_EQ(doc["msg"], Json::parse(R"(["first", "second"])"));
  EXPECT_EQ(doc["msg_details"], "all the details");
  EXPECT_FALSE(doc.contains("error"));
}

TEST(JobStatusDoc, TagsMergeJobTagsAndTag) {
  Json job = SampleJob();
  job["tags"] = {"a", "b"};
  EXPECT_EQ(JobStatusDocument(job, "job-started", "h", {}, kNow)["tags"],
            Json::parse(R"(["a", "b", "v1"])"));
  job["tags"] = "solo";
  EXPECT_EQ(JobStatusDocument(job, "job-started", "h", {}, kNow)["tags"],
            Json::parse(R"(["solo", "v1"])"));
  job.erase("tags");
  job["tag"] = nullptr;
  EXPECT_EQ(JobStatusDocument(job, "job-started", "h", {}, kNow)["tags"], Json::array());
  job.erase("tag");
  EXPECT_EQ(JobStatusDocument(job, "job-started", "h", {}, kNow)["tags"], Json::array());
}

TEST(JobStatusDoc, MissingJobFieldsAreNullAndTypeUnknown) {
  Json doc = JobStatusDocument(Json::object(), "job-failed", "h", {}, kNow);
  for (const char* key : {"uuid", "job_id", "payload_id", "payload_hash", "dedup"}) {
    EXPECT_TRUE(doc[key].is_null()) << key;
  }
  EXPECT_EQ(doc["type"], "unknown");
  EXPECT_EQ(doc["job"], Json::object());
}

TEST(JobStatusDoc, JobInfoKeepsTheListedKeysThatExist) {
  Json job = SampleJob();
  job["container_image_urls"] = {"s3://a", "s3://b"};
  Json doc = JobInfoDocument(job, kNow);
  Json expected = Json::parse(R"({
    "type": "job_info", "@version": "1", "@timestamp": "2024-01-02T03:04:05.678901Z",
    "job_type": "job-hello:master",
    "job": {"job_id": "hello-20240101T000000.1Z", "task_id": "t-1", "tag": "v1",
            "priority": 3, "name": "hello", "delivery_info": {"routing_key": "q"},
            "container_image_urls": ["s3://a", "s3://b"]}})");
  expected["job"]["job_info"] = job["job_info"];
  EXPECT_EQ(doc, expected) << doc.dump(2);
  EXPECT_TRUE(JobInfoDocument(Json::object(), kNow)["job_type"].is_null());
}

TEST(JobStatusDoc, CustomEvent) {
  Json doc = CustomEventDocument("worker_anomaly", "job_drain", Json{{"count", 11}}, {"x"},
                                 "node1.example.com", "u-1", kNow);
  EXPECT_EQ(doc, Json::parse(R"({
    "resource": "event", "type": "worker_anomaly", "status": "job_drain",
    "@timestamp": "2024-01-02T03:04:05.678901Z", "hostname": "node1.example.com",
    "uuid": "u-1", "tags": ["x"], "@version": "1", "event": {"count": 11}})"))
      << doc.dump(2);
}

TEST(JobStatusDoc, TtlIsExpiresOrTimeLimitPlusTwoGaps) {
  auto job_with = [](Json limit) { return Json{{"job_info", {{"time_limit", limit}}}}; };
  EXPECT_EQ(StatusTtlSeconds(Json::object()), 86400);
  EXPECT_EQ(StatusTtlSeconds(job_with(3600)), 86400);
  EXPECT_EQ(StatusTtlSeconds(job_with(85800)), 86400);
  EXPECT_EQ(StatusTtlSeconds(job_with(85801)), 86401);
  EXPECT_EQ(StatusTtlSeconds(job_with(172800)), 173400);
  EXPECT_EQ(StatusTtlSeconds(job_with(172800.9)), 173400);  // int() truncates
  EXPECT_EQ(StatusTtlSeconds(job_with(true)), 86400);       // a bool is not a limit
  EXPECT_EQ(StatusTtlSeconds(job_with("172800")), 86400);
  EXPECT_EQ(StatusTtlSeconds(job_with(nullptr)), 86400);
  EXPECT_EQ(StatusTtlSeconds(job_with(-5)), 86400);
  EXPECT_EQ(StatusTtlSeconds(job_with(1e300)), kMaxStatusTtlSeconds);
  EXPECT_EQ(StatusTtlSeconds(job_with(UINT64_MAX)), kMaxStatusTtlSeconds);
  EXPECT_EQ(StatusTtlSeconds(job_with(1000), 60, 10), 1020);
}

TEST(JobStatusDoc, TerminalStatuses) {
  for (const char* s :
       {"job-completed", "job-failed", "job-deduped", "job-offline", "job-revoked"}) {
    EXPECT_TRUE(IsTerminalStatus(s)) << s;
  }
  for (const char* s : {"job-queued", "job-started", "job-terminated", "job-killed", ""}) {
    EXPECT_FALSE(IsTerminalStatus(s)) << s;
  }
}

}  // namespace
}  // namespace verdi
