#include "jobspec/context.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

Json FullJob() {
  return Json::parse(R"({
    "job_id": "j-1",
    "type": "job-hello_world:develop",
    "task_id": "abc-123",
    "priority": 5,
    "context": {},
    "params": {"_command": "/run.sh 'hi'", "greeting": "hi", "n": 1, "localize_urls": []},
    "container_image_name": "hello_world:develop",
    "container_image_url": "s3://bucket/hello.tar.gz",
    "container_mappings": {"/a": "/b"},
    "runtime_options": {"gpus": "all"}
  })");
}

TEST(ComposeContextTest, EmptyCallerContextIsNotWrapped) {
  Json job = FullJob();
  Json context = ComposeContext(job);
  EXPECT_FALSE(context.contains("context"));
  EXPECT_EQ(context, Json::parse(R"({
    "_command": "/run.sh 'hi'", "greeting": "hi", "n": 1, "localize_urls": [],
    "job_priority": 5,
    "container_image_name": "hello_world:develop",
    "container_image_url": "s3://bucket/hello.tar.gz",
    "container_mappings": {"/a": "/b"},
    "runtime_options": {"gpus": "all"},
    "_prov": {"wasGeneratedBy": "task_id:abc-123"},
    "_force_ingest": false
  })"));
}

TEST(ComposeContextTest, NonEmptyCallerContextIsWrapped) {
  Json job = FullJob();
  job["context"] = Json::parse(R"({"a": 1, "b": {"c": [2]}})");
  const Json before = job;
  Json context = ComposeContext(job);
  EXPECT_EQ(context["context"], Json::parse(R"({"a": 1, "b": {"c": [2]}})"));
  EXPECT_FALSE(context.contains("a"));  // not merged at the top level
  EXPECT_EQ(context["greeting"], "hi");
  EXPECT_EQ(job, before);  // the job's own context is not modified
}

TEST(ComposeContextTest, DefaultsForAMinimalJob) {
  Json job = Json::parse(R"({"job_id": "j-1", "type": "t", "task_id": "t-9"})");
  EXPECT_EQ(ComposeContext(job), Json::parse(R"({
    "job_priority": null,
    "container_image_name": null,
    "container_image_url": null,
    "container_mappings": {},
    "runtime_options": {},
    "_prov": {"wasGeneratedBy": "task_id:t-9"},
    "_force_ingest": false
  })"));
}

TEST(ComposeContextTest, ContainerImageUrlsOnlyWhenPresent) {
  Json job = FullJob();
  EXPECT_FALSE(ComposeContext(job).contains("container_image_urls"));
  job["container_image_urls"] = Json::array({"s3://a/x.tar.gz", "https://b/x.tar.gz"});
  EXPECT_EQ(ComposeContext(job)["container_image_urls"],
            Json::array({"s3://a/x.tar.gz", "https://b/x.tar.gz"}));
}

TEST(ComposeContextTest, ForceIngestFromPublishOverwriteOk) {
  Json job = FullJob();
  job["publish_overwrite_ok"] = true;
  EXPECT_EQ(ComposeContext(job)["_force_ingest"], true);
  job["publish_overwrite_ok"] = false;
  EXPECT_EQ(ComposeContext(job)["_force_ingest"], false);
}

TEST(ComposeContextTest, JobFieldsWinOverParamsOfTheSameName) {
  Json job = FullJob();
  job["params"]["job_priority"] = 99;
  job["params"]["_prov"] = "from params";
  Json context = ComposeContext(job);
  EXPECT_EQ(context["job_priority"], 5);
  EXPECT_EQ(context["_prov"], Json::parse(R"({"wasGeneratedBy": "task_id:abc-123"})"));
}

TEST(ComposeContextTest, WithoutTaskId) {
  Json job = FullJob();
  job.erase("task_id");
  EXPECT_EQ(ComposeContext(job)["_prov"]["wasGeneratedBy"], "task_id:");
  job["task_id"] = nullptr;  // must not throw
  EXPECT_EQ(ComposeContext(job)["_prov"]["wasGeneratedBy"], "task_id:");
}

TEST(ComposeContextTest, InputIsUnchanged) {
  Json job = FullJob();
  job["container_image_urls"] = Json::array({"u"});
  const Json before = job;
  Json context = ComposeContext(job);
  context["greeting"] = "changed";
  context["container_mappings"]["/x"] = "/y";
  EXPECT_EQ(job, before);
}

TEST(MergeContextTest, ReloadedKeysReplaceTopLevelKeys) {
  Json context = Json::parse(R"({"a": 1, "b": {"x": 1}, "_force_ingest": false})");
  MergeContext(Json::parse(R"({"b": {"y": 2}, "c": 3, "_force_ingest": true})"), &context);
  EXPECT_EQ(context, Json::parse(R"({"a": 1, "b": {"y": 2}, "c": 3, "_force_ingest": true})"));
}

TEST(MergeContextTest, NonObjectIsIgnored) {
  const Json original = Json::parse(R"({"a": 1})");
  for (const Json& reloaded : {Json::array({1}), Json(nullptr), Json("x"), Json(3)}) {
    Json context = original;
    MergeContext(reloaded, &context);
    EXPECT_EQ(context, original) << reloaded;
  }
  Json context = original;
  MergeContext(Json::object(), &context);
  EXPECT_EQ(context, original);
}

// HySDS's worker fills the job's own context dict only when it came empty.
TEST(SharesContextTest, OnlyAnEmptyContextObject) {
  EXPECT_TRUE(SharesContext(Json::parse(R"({"context": {}})")));
  EXPECT_FALSE(SharesContext(Json::parse(R"({"context": {"rule": 1}})")));
  EXPECT_FALSE(SharesContext(Json::parse(R"({"params": {}})")));
  EXPECT_FALSE(SharesContext(Json::parse(R"({"context": null})")));
}

}  // namespace
}  // namespace verdi
