#include "jobspec/job.h"

#include <string>

#include <gtest/gtest.h>

namespace verdi {
namespace {

// A test_job.json as HySDS's stand-alone run_job.py takes it.
Json ExampleJob() {
  return Json::parse(R"({
  "job_id": "hello_world-20240101T000000.0Z",
  "name": "hello_world-20240101T000000.0Z",
  "type": "job-hello_world:develop",
  "task_id": "00000000-0000-0000-0000-000000000001",
  "priority": 0,
  "tag": "standalone-test",
  "username": "ops",
  "context": {},
  "localize_urls": [
    {"url": "https://example.com/data/input.txt", "local_path": "inputs/", "cache": false}
  ],
  "container_image_name": "hello_world:develop",
  "container_image_url": null,
  "container_mappings": {"$HOME/.netrc": ["/home/ops/.netrc", "ro"]},
  "runtime_options": {},
  "params": {
    "_command": "/home/ops/hello_world/run.sh 'inputs/input.txt' 'hello'",
    "_disk_usage": "1GB",
    "localize_urls": [{"url": "https://example.com/data/input.txt"}],
    "job_specification": {"command": "/home/ops/hello_world/run.sh", "params": [], "dependency_images": []},
    "input_file": "inputs/input.txt",
    "greeting": "hello"
  },
  "job_info": {
    "id": "hello_world-20240101T000000.0Z",
    "job_queue": "standalone",
    "time_queued": "2024-01-01T00:00:00.000000Z",
    "index": "job_status-2024.01.01",
    "time_limit": 3900,
    "soft_time_limit": 3600,
    "payload_hash": "0123456789abcdef0123456789abcdef",
    "dedup": false,
    "job_payload": {"job_type": "job:job-hello_world:develop", "payload_task_id": "00000000-0000-0000-0000-000000000000"}
  }
})");
}

// Parses `doc`, expects one Invalid status, and checks `job` was not touched.
std::string Rejection(const Json& doc) {
  Job job;
  job.job_id = "untouched";
  Status st = ParseJob(doc, &job);
  EXPECT_TRUE(st.IsInvalid()) << "accepted: " << doc;
  EXPECT_EQ(job.job_id, "untouched");
  EXPECT_TRUE(job.doc.is_null());
  return st.message();
}

TEST(ParseJobTest, ExampleJobFromTheReference) {
  Job job;
  Status st = ParseJob(ExampleJob(), &job);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(job.job_id, "hello_world-20240101T000000.0Z");
  EXPECT_EQ(job.type, "job-hello_world:develop");
  EXPECT_EQ(job.task_id, "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(job.priority, 0);
  ASSERT_EQ(job.localize_urls.size(), 1u);
  EXPECT_EQ(job.localize_urls[0].url, "https://example.com/data/input.txt");
  EXPECT_EQ(job.localize_urls[0].local_path, "inputs/");
  EXPECT_FALSE(job.localize_urls[0].cache);
  EXPECT_EQ(job.command_line,
            std::optional<std::string>("/home/ops/hello_world/run.sh 'inputs/input.txt' 'hello'"));
  EXPECT_EQ(job.disk_usage_bytes, std::optional<uint64_t>(1073741824u));
  ASSERT_TRUE(job.spec.has_value());
  EXPECT_EQ(job.spec->command, "/home/ops/hello_world/run.sh");
  EXPECT_TRUE(job.spec->params.empty());
  EXPECT_TRUE(job.spec->dependency_images.empty());
  EXPECT_EQ(job.soft_time_limit, std::optional<int64_t>(3600));
  EXPECT_EQ(job.time_limit, std::optional<int64_t>(3900));
  EXPECT_EQ(job.doc, ExampleJob());
}

TEST(ParseJobTest, MinimalJob) {
  Job job;
  ASSERT_TRUE(ParseJob(Json::parse(R"({"job_id": "j-1", "type": "t"})"), &job).ok());
  EXPECT_EQ(job.job_id, "j-1");
  EXPECT_EQ(job.type, "t");
  EXPECT_EQ(job.task_id, "");
  EXPECT_EQ(job.priority, 0);
  EXPECT_TRUE(job.localize_urls.empty());
  EXPECT_EQ(job.command_line, std::nullopt);
  EXPECT_EQ(job.disk_usage_bytes, std::nullopt);
  EXPECT_FALSE(job.spec.has_value());
  EXPECT_EQ(job.soft_time_limit, std::nullopt);
  EXPECT_EQ(job.time_limit, std::nullopt);
}

TEST(ParseJobTest, LocalizeUrlDefaultsAndPriority) {
  Json doc = ExampleJob();
  doc["priority"] = 7;
  doc["localize_urls"] =
      Json::parse(R"([{"url": "s3://b/k"}, {"url": "https://h/f", "cache": true}])");
  doc["job_info"]["time_limit"] = 3900.0;  // Python producers write floats
  Job job;
  ASSERT_TRUE(ParseJob(doc, &job).ok());
  EXPECT_EQ(job.priority, 7);
  ASSERT_EQ(job.localize_urls.size(), 2u);
  EXPECT_EQ(job.localize_urls[0].url, "s3://b/k");
  EXPECT_EQ(job.localize_urls[0].local_path, "");
  EXPECT_TRUE(job.localize_urls[0].cache);
  EXPECT_EQ(job.localize_urls[1].url, "https://h/f");
  EXPECT_TRUE(job.localize_urls[1].cache);
  EXPECT_EQ(job.time_limit, std::optional<int64_t>(3900));
}

TEST(ParseJobTest, DocIsKeptIntact) {
  Json doc = ExampleJob();
  doc["x_unknown_field"] = {{"nested", Json::array({1, "two"})}};
  doc["params"]["x_unknown_param"] = 3.25;
  Job job;
  ASSERT_TRUE(ParseJob(doc, &job).ok());
  EXPECT_EQ(job.doc, doc);
  EXPECT_EQ(job.doc["x_unknown_field"]["nested"][1], "two");
  EXPECT_EQ(job.doc["params"]["x_unknown_param"], 3.25);
}

TEST(ParseJobTest, RejectsNonObject) {
  EXPECT_EQ(Rejection(Json::array()), "job: expected an object, got a list");
  EXPECT_EQ(Rejection(Json(nullptr)), "job: expected an object, got null");
}

TEST(ParseJobTest, RejectsMissingJobId) {
  Json doc = ExampleJob();
  doc.erase("job_id");
  EXPECT_EQ(Rejection(doc), "job.job_id: is missing, expected a string");
}

TEST(ParseJobTest, RejectsUnsafeJobId) {
  Json doc = ExampleJob();
  doc["job_id"] = "../x";
  EXPECT_EQ(Rejection(doc),
            "job.job_id: contains '/' at byte 2 (a job id names a directory under the work root)");
  doc["job_id"] = "";
  EXPECT_EQ(Rejection(doc),
            "job.job_id: is empty (a job id names a directory under the work root)");
}

TEST(ParseJobTest, RejectsBadType) {
  Json doc = ExampleJob();
  doc["type"] = 7;
  EXPECT_EQ(Rejection(doc), "job.type: expected a string, got 7");
  doc["type"] = "";
  EXPECT_EQ(Rejection(doc),
            "job.type: expected a job type such as \"job-hello_world:develop\", got \"\"");
  doc.erase("type");
  EXPECT_EQ(Rejection(doc), "job.type: is missing, expected a string");
}

TEST(ParseJobTest, RejectsBadDiskUsage) {
  Json doc = ExampleJob();
  doc["params"]["_disk_usage"] = "1G";
  EXPECT_EQ(Rejection(doc),
            "job.params._disk_usage: expected a size such as \"10GB\" (a number then KB, MB, GB "
            "or TB), got \"1G\"");
  doc["params"]["_disk_usage"] = 1024;
  EXPECT_EQ(Rejection(doc), "job.params._disk_usage: expected a string, got 1024");
}

TEST(ParseJobTest, RejectsBadLocalizeUrls) {
  Json doc = ExampleJob();
  doc["localize_urls"].push_back({{"local_path", "x/"}});
  EXPECT_EQ(Rejection(doc), "job.localize_urls[1].url: is missing, expected a string");
  doc["localize_urls"][1]["url"] = "";
  EXPECT_EQ(Rejection(doc), "job.localize_urls[1].url: expected a URL, got \"\"");
  doc["localize_urls"][1] = "https://example.com/x";
  EXPECT_EQ(Rejection(doc),
            "job.localize_urls[1]: expected an object, got \"https://example.com/x\"");
  doc["localize_urls"] = Json::parse(R"([{"url": "u", "cache": "no"}])");
  EXPECT_EQ(Rejection(doc), "job.localize_urls[0].cache: expected true or false, got \"no\"");
  doc["localize_urls"] = Json::parse(R"([{"url": "u", "local_path": 1}])");
  EXPECT_EQ(Rejection(doc), "job.localize_urls[0].local_path: expected a string, got 1");
  doc["localize_urls"] = Json::object();
  EXPECT_EQ(Rejection(doc), "job.localize_urls: expected a list, got an object");
}

TEST(ParseJobTest, RejectsBadJobInfo) {
  Json doc = ExampleJob();
  doc["job_info"]["time_limit"] = "abc";
  EXPECT_EQ(Rejection(doc), "job.job_info.time_limit: expected an integer, got \"abc\"");
  doc = ExampleJob();
  doc["job_info"]["soft_time_limit"] = -5;
  EXPECT_EQ(Rejection(doc),
            "job.job_info.soft_time_limit: expected a number of seconds, 0 or more, got -5");
  doc = ExampleJob();
  doc["job_info"]["dedup"] = "false";
  EXPECT_EQ(Rejection(doc), "job.job_info.dedup: expected true or false, got \"false\"");
  doc = ExampleJob();
  doc["job_info"] = "info";
  EXPECT_EQ(Rejection(doc), "job.job_info: expected an object, got \"info\"");
}

TEST(ParseJobTest, RejectsContextThatIsNotAnObject) {
  Json doc = ExampleJob();
  doc["context"] = "ctx";
  EXPECT_EQ(Rejection(doc), "job.context: expected an object, got \"ctx\"");
  doc["context"] = Json::array();
  EXPECT_EQ(Rejection(doc), "job.context: expected an object, got a list");
}

TEST(ParseJobTest, RejectsOtherBadTopLevelTypes) {
  Json doc = ExampleJob();
  doc["priority"] = "5";
  EXPECT_EQ(Rejection(doc), "job.priority: expected an integer, got \"5\"");
  doc = ExampleJob();
  doc["task_id"] = 1;
  EXPECT_EQ(Rejection(doc), "job.task_id: expected a string, got 1");
  doc = ExampleJob();
  doc["container_mappings"] = Json::array();
  EXPECT_EQ(Rejection(doc), "job.container_mappings: expected an object, got a list");
  doc = ExampleJob();
  doc["publish_overwrite_ok"] = "yes";
  EXPECT_EQ(Rejection(doc), "job.publish_overwrite_ok: expected true or false, got \"yes\"");
  doc = ExampleJob();
  doc["params"] = Json::array();
  EXPECT_EQ(Rejection(doc), "job.params: expected an object, got a list");
  doc = ExampleJob();
  doc["params"]["_command"] = Json::array({"/bin/true"});
  EXPECT_EQ(Rejection(doc), "job.params._command: expected a string, got a list");
}

TEST(ParseJobTest, RejectsBadJobSpecificationWithItsFullPath) {
  Json doc = ExampleJob();
  doc["params"]["job_specification"]["params"] =
      Json::parse(R"([{"name": "a", "destination": "somewhere"}])");
  EXPECT_EQ(Rejection(doc),
            "job.params.job_specification.params[0].destination: expected \"positional\", "
            "\"localize\" or \"context\", got \"somewhere\"");
}

}  // namespace
}  // namespace verdi
