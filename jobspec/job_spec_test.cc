#include "jobspec/job_spec.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using Dest = JobSpecParam::Destination;

Json FullSpec() {
  return Json::parse(R"({
    "command": "/home/ops/hello_world/run.sh",
    "params": [
      {"name": "input_file", "destination": "localize"},
      {"name": "greeting", "destination": "positional"},
      {"name": "mode", "destination": "context"}
    ],
    "disk_usage": "10GB",
    "soft_time_limit": 3600,
    "time_limit": 3900.0,
    "imported_worker_files": {
      "$HOME/.netrc": "/home/ops/.netrc",
      "/data/aux": ["/aux", "rw"],
      "/data/ro": ["/ro"],
      "/data/ro2": ["/ro2", "ro"]
    },
    "dependency_images": [
      {"container_image_name": "dep:1", "container_image_url": "s3://bucket/dep-1.tar.gz",
       "container_mappings": {"/x": ["/y", "ro"]}, "runtime_options": {"gpus": "1"}},
      {"container_image_name": "dep:2", "container_image_url": null}
    ],
    "recommended-queues": ["small", "large"],
    "runtime_options": {"gpus": "all"},
    "pre": ["my.module.pre"],
    "post": ["hysds.triage.triage"],
    "disable_pre_builtins": true,
    "disable_post_builtins": true,
    "comment": "unknown keys are not errors"
  })");
}

Status Parse(const Json& doc, JobSpec* spec) { return ParseJobSpec(JsonField(&doc, "spec"), spec); }

// Parses `doc`, expects a rejection, and checks the output was not touched.
std::string Rejection(const Json& doc) {
  JobSpec spec;
  spec.command = "untouched";
  Status st = Parse(doc, &spec);
  EXPECT_TRUE(st.IsInvalid()) << "accepted: " << doc;
  EXPECT_EQ(spec.command, "untouched");
  return st.message();
}

TEST(ParseJobSpecTest, FullSpec) {
  Json doc = FullSpec();
  JobSpec spec;
  Status st = Parse(doc, &spec);
  ASSERT_TRUE(st.ok()) << st.message();

  EXPECT_EQ(spec.command, "/home/ops/hello_world/run.sh");
  ASSERT_EQ(spec.params.size(), 3u);
  EXPECT_EQ(spec.params[0].name, "input_file");
  EXPECT_EQ(spec.params[0].destination, Dest::kLocalize);
  EXPECT_EQ(spec.params[1].name, "greeting");
  EXPECT_EQ(spec.params[1].destination, Dest::kPositional);
  EXPECT_EQ(spec.params[2].name, "mode");
  EXPECT_EQ(spec.params[2].destination, Dest::kContext);

  EXPECT_EQ(spec.disk_usage_bytes, std::optional<uint64_t>(10737418240u));
  EXPECT_EQ(spec.soft_time_limit, std::optional<int64_t>(3600));
  EXPECT_EQ(spec.time_limit, std::optional<int64_t>(3900));

  EXPECT_EQ(spec.imported_worker_files, doc["imported_worker_files"]);

  ASSERT_EQ(spec.dependency_images.size(), 2u);
  EXPECT_EQ(spec.dependency_images[0].container_image_name, "dep:1");
  EXPECT_EQ(spec.dependency_images[0].container_image_url,
            std::optional<std::string>("s3://bucket/dep-1.tar.gz"));
  EXPECT_EQ(spec.dependency_images[0].container_mappings, Json::parse(R"({"/x": ["/y", "ro"]})"));
  EXPECT_EQ(spec.dependency_images[0].runtime_options, Json::parse(R"({"gpus": "1"})"));
  EXPECT_EQ(spec.dependency_images[1].container_image_name, "dep:2");
  EXPECT_EQ(spec.dependency_images[1].container_image_url, std::nullopt);
  EXPECT_EQ(spec.dependency_images[1].container_mappings, Json::object());
  EXPECT_EQ(spec.dependency_images[1].runtime_options, Json::object());

  EXPECT_EQ(spec.recommended_queues, (std::vector<std::string>{"small", "large"}));
  EXPECT_EQ(spec.runtime_options, Json::parse(R"({"gpus": "all"})"));
  EXPECT_EQ(spec.pre, std::vector<std::string>{"my.module.pre"});
  EXPECT_EQ(spec.post, std::vector<std::string>{"hysds.triage.triage"});
  EXPECT_TRUE(spec.disable_pre_builtins);
  EXPECT_TRUE(spec.disable_post_builtins);
}

TEST(ParseJobSpecTest, MinimalSpecHasDefaults) {
  Json doc = Json::parse(R"({"command": "/bin/true", "params": []})");
  JobSpec spec;
  spec.pre = {"stale"};
  ASSERT_TRUE(Parse(doc, &spec).ok());
  EXPECT_EQ(spec.command, "/bin/true");
  EXPECT_TRUE(spec.params.empty());
  EXPECT_EQ(spec.disk_usage_bytes, std::nullopt);
  EXPECT_EQ(spec.soft_time_limit, std::nullopt);
  EXPECT_EQ(spec.time_limit, std::nullopt);
  EXPECT_EQ(spec.imported_worker_files, Json::object());
  EXPECT_TRUE(spec.dependency_images.empty());
  EXPECT_TRUE(spec.recommended_queues.empty());
  EXPECT_EQ(spec.runtime_options, Json::object());
  EXPECT_TRUE(spec.pre.empty());  // the whole struct is replaced
  EXPECT_TRUE(spec.post.empty());
  EXPECT_FALSE(spec.disable_pre_builtins);
  EXPECT_FALSE(spec.disable_post_builtins);
}

TEST(ParseJobSpecTest, NullOptionalsAreNotGiven) {
  Json doc = Json::parse(R"({"command": "/bin/true", "params": [], "disk_usage": null,
      "time_limit": null, "imported_worker_files": null, "dependency_images": null,
      "pre": null, "disable_post_builtins": null})");
  JobSpec spec;
  ASSERT_TRUE(Parse(doc, &spec).ok());
  EXPECT_EQ(spec.disk_usage_bytes, std::nullopt);
  EXPECT_EQ(spec.time_limit, std::nullopt);
  EXPECT_EQ(spec.imported_worker_files, Json::object());
}

TEST(ParseJobSpecTest, RejectsNonObject) {
  EXPECT_EQ(Rejection(Json("x")), "spec: expected an object, got \"x\"");
  EXPECT_EQ(Rejection(Json::array()), "spec: expected an object, got a list");
}

TEST(ParseJobSpecTest, RejectsMissingCommand) {
  Json doc = FullSpec();
  doc.erase("command");
  EXPECT_EQ(Rejection(doc), "spec.command: is missing, expected a string");
}

TEST(ParseJobSpecTest, RejectsBadDestination) {
  Json doc = FullSpec();
  doc["params"][1]["destination"] = "posit";
  EXPECT_EQ(Rejection(doc),
            "spec.params[1].destination: expected \"positional\", \"localize\" or \"context\", "
            "got \"posit\"");
  doc["params"][1].erase("destination");
  EXPECT_EQ(Rejection(doc), "spec.params[1].destination: is missing, expected a string");
}

TEST(ParseJobSpecTest, RejectsBadParams) {
  Json doc = FullSpec();
  doc["params"] = Json::object();
  EXPECT_EQ(Rejection(doc), "spec.params: expected a list, got an object");
  doc.erase("params");
  EXPECT_EQ(Rejection(doc), "spec.params: is missing, expected a list");
  doc["params"] = Json::parse(R"([{"destination": "context"}])");
  EXPECT_EQ(Rejection(doc), "spec.params[0].name: is missing, expected a string");
  doc["params"] = Json::parse(R"(["greeting"])");
  EXPECT_EQ(Rejection(doc), "spec.params[0]: expected an object, got \"greeting\"");
}

TEST(ParseJobSpecTest, RejectsBadImportedWorkerFiles) {
  const std::string expected = "a container path, or [container path, \"ro\" or \"rw\"]";
  Json doc = FullSpec();
  doc["imported_worker_files"] = Json::parse(R"({"/h": [1]})");
  EXPECT_EQ(Rejection(doc), "spec.imported_worker_files./h: expected " + expected + ", got a list");
  doc["imported_worker_files"] = Json::parse(R"({"/h": ["/c", "rx"]})");
  EXPECT_EQ(Rejection(doc),
            "spec.imported_worker_files./h[1]: expected \"ro\" or \"rw\", got \"rx\"");
  doc["imported_worker_files"] = Json::parse(R"({"/h": ["/c", "ro", "x"]})");
  EXPECT_EQ(Rejection(doc), "spec.imported_worker_files./h: expected " + expected + ", got a list");
  doc["imported_worker_files"] = Json::parse(R"({"/h": []})");
  EXPECT_EQ(Rejection(doc), "spec.imported_worker_files./h: expected " + expected + ", got a list");
  doc["imported_worker_files"] = Json::parse(R"({"/h": 5})");
  EXPECT_EQ(Rejection(doc), "spec.imported_worker_files./h: expected " + expected + ", got 5");
  doc["imported_worker_files"] = Json::parse(R"(["/h"])");
  EXPECT_EQ(Rejection(doc), "spec.imported_worker_files: expected an object, got a list");
}

TEST(ParseJobSpecTest, RejectsBadLimits) {
  Json doc = FullSpec();
  doc["time_limit"] = -1;
  EXPECT_EQ(Rejection(doc), "spec.time_limit: expected a number of seconds, 0 or more, got -1");
  doc = FullSpec();
  doc["soft_time_limit"] = "3600";
  EXPECT_EQ(Rejection(doc), "spec.soft_time_limit: expected an integer, got \"3600\"");
  doc["soft_time_limit"] = 36.5;
  EXPECT_EQ(Rejection(doc), "spec.soft_time_limit: expected an integer, got 36.5");
}

TEST(ParseJobSpecTest, RejectsBadDiskUsage) {
  Json doc = FullSpec();
  doc["disk_usage"] = "10Gb";
  EXPECT_EQ(Rejection(doc),
            "spec.disk_usage: expected a size such as \"10GB\" (a number then KB, MB, GB or TB), "
            "got \"10Gb\": unknown unit");
  doc["disk_usage"] = 10;
  EXPECT_EQ(Rejection(doc), "spec.disk_usage: expected a string, got 10");
}

TEST(ParseJobSpecTest, RejectsBadDependencyImages) {
  Json doc = FullSpec();
  doc["dependency_images"] = Json::parse(R"([{"container_image_url": "s3://x"}])");
  EXPECT_EQ(Rejection(doc),
            "spec.dependency_images[0].container_image_name: is missing, expected a string");
  doc["dependency_images"] =
      Json::parse(R"([{"container_image_name": "d", "container_image_url": 3}])");
  EXPECT_EQ(Rejection(doc),
            "spec.dependency_images[0].container_image_url: expected a string, got 3");
  doc["dependency_images"] =
      Json::parse(R"([{"container_image_name": "d", "container_mappings": {"/a": ["/b", "x"]}}])");
  EXPECT_EQ(Rejection(doc),
            "spec.dependency_images[0].container_mappings./a[1]: expected \"ro\" or \"rw\", "
            "got \"x\"");
  doc["dependency_images"] =
      Json::parse(R"([{"container_image_name": "d", "runtime_options": "gpus"}])");
  EXPECT_EQ(Rejection(doc),
            "spec.dependency_images[0].runtime_options: expected an object, got \"gpus\"");
  doc["dependency_images"] = Json::object();
  EXPECT_EQ(Rejection(doc), "spec.dependency_images: expected a list, got an object");
}

TEST(ParseJobSpecTest, RejectsBadOptionalTypes) {
  Json doc = FullSpec();
  doc["recommended-queues"] = Json::parse("[1]");
  EXPECT_EQ(Rejection(doc), "spec.recommended-queues[0]: expected a string, got 1");
  doc = FullSpec();
  doc["runtime_options"] = Json::array();
  EXPECT_EQ(Rejection(doc), "spec.runtime_options: expected an object, got a list");
  doc = FullSpec();
  doc["pre"] = "a.b";
  EXPECT_EQ(Rejection(doc), "spec.pre: expected a list, got \"a.b\"");
  doc = FullSpec();
  doc["post"] = Json::parse(R"(["a", null])");
  EXPECT_EQ(Rejection(doc), "spec.post[1]: expected a string, got null");
  doc = FullSpec();
  doc["disable_pre_builtins"] = "yes";
  EXPECT_EQ(Rejection(doc), "spec.disable_pre_builtins: expected true or false, got \"yes\"");
  doc = FullSpec();
  doc["disable_post_builtins"] = 1;
  EXPECT_EQ(Rejection(doc), "spec.disable_post_builtins: expected true or false, got 1");
}

}  // namespace
}  // namespace verdi
