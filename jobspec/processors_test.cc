#include "jobspec/processors.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using Names = std::vector<std::string>;

const Names kPreBuiltins = {"hysds.localize.localize_urls", "hysds.utils.mark_localized_datasets",
                            "hysds.utils.validate_checksum_files"};
const Names kPostBuiltins = {"hysds.dataset_ingest_bulk.publish_datasets"};

Json JobWithSpec(const char* spec) {
  Json job = {{"job_id", "j"}, {"type", "t"}, {"params", Json::object()}};
  if (spec != nullptr) job["params"]["job_specification"] = Json::parse(spec);
  return job;
}

Names Of(const Json& job, ProcessorPhase phase, bool deduped = false) {
  Names names = {"left over"};
  Status st = ProcessorsOf(job, phase, deduped, &names);
  EXPECT_TRUE(st.ok()) << st.message();
  return names;
}

TEST(ProcessorsTest, BuiltinsAloneWithoutAJobSpec) {
  Json job = JobWithSpec(nullptr);
  EXPECT_EQ(Of(job, ProcessorPhase::kPre), kPreBuiltins);
  EXPECT_EQ(Of(job, ProcessorPhase::kPost), kPostBuiltins);
  EXPECT_EQ(Of(Json{{"job_id", "j"}}, ProcessorPhase::kPost), kPostBuiltins);
}

TEST(ProcessorsTest, TheSpecsListsComeAfterTheBuiltinsInTheirOrder) {
  Json job = JobWithSpec(R"({"command": "c", "params": [], "pre": ["a.b", "c.d"],
                             "post": ["hysds.triage.triage", "my.pub.run"]})");
  Names pre = kPreBuiltins;
  pre.insert(pre.end(), {"a.b", "c.d"});
  EXPECT_EQ(Of(job, ProcessorPhase::kPre), pre);
  EXPECT_EQ(Of(job, ProcessorPhase::kPost), (Names{"hysds.dataset_ingest_bulk.publish_datasets",
                                                   "hysds.triage.triage", "my.pub.run"}));
}

TEST(ProcessorsTest, DisabledBuiltinsLeaveTheSpecsListOnly) {
  Json job = JobWithSpec(R"({"disable_pre_builtins": true, "disable_post_builtins": true,
                             "pre": ["a.b"], "post": ["hysds.triage.triage"]})");
  EXPECT_EQ(Of(job, ProcessorPhase::kPre), Names{"a.b"});
  EXPECT_EQ(Of(job, ProcessorPhase::kPost), Names{"hysds.triage.triage"});
  // Each flag disables its own phase only.
  job = JobWithSpec(R"({"disable_post_builtins": true})");
  EXPECT_EQ(Of(job, ProcessorPhase::kPre), kPreBuiltins);
  EXPECT_EQ(Of(job, ProcessorPhase::kPost), Names{});
  job = JobWithSpec(R"({"disable_pre_builtins": false, "pre": null, "post": []})");
  EXPECT_EQ(Of(job, ProcessorPhase::kPre), kPreBuiltins);
  EXPECT_EQ(Of(job, ProcessorPhase::kPost), kPostBuiltins);
}

TEST(ProcessorsTest, ADedupedJobSkipsThePostBuiltinsButNotTheSpecsPost) {
  Json job = JobWithSpec(R"({"post": ["hysds.triage.triage"]})");
  EXPECT_EQ(Of(job, ProcessorPhase::kPost, /*deduped=*/true), Names{"hysds.triage.triage"});
  EXPECT_EQ(Of(job, ProcessorPhase::kPre, /*deduped=*/true), kPreBuiltins);
}

TEST(ProcessorsTest, ABadListOrFlagNamesTheField) {
  Names names;
  Status st = ProcessorsOf(JobWithSpec(R"({"post": "hysds.triage.triage"})"), ProcessorPhase::kPost,
                           false, &names);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("job.params.job_specification.post: ", 0), 0u) << st.message();
  st = ProcessorsOf(JobWithSpec(R"({"pre": ["a.b", 3]})"), ProcessorPhase::kPre, false, &names);
  EXPECT_EQ(st.message().rfind("job.params.job_specification.pre", 0), 0u) << st.message();
  st = ProcessorsOf(JobWithSpec(R"({"disable_pre_builtins": "yes"})"), ProcessorPhase::kPre, false,
                    &names);
  EXPECT_EQ(st.message().rfind("job.params.job_specification.disable_pre_builtins: ", 0), 0u)
      << st.message();
}

TEST(ProcessorsTest, BuiltinNamesOfEveryHysdsVersion) {
  for (const std::string& name : kPreBuiltins)
    EXPECT_NE(FindBuiltinProcessor(name), BuiltinProcessor::kNone) << name;
  EXPECT_EQ(FindBuiltinProcessor("hysds.localize.localize_urls"), BuiltinProcessor::kLocalizeUrls);
  EXPECT_EQ(FindBuiltinProcessor("hysds.utils.localize_urls"), BuiltinProcessor::kLocalizeUrls);
  EXPECT_EQ(FindBuiltinProcessor("hysds.utils.mark_localized_datasets"),
            BuiltinProcessor::kMarkLocalizedDatasets);
  EXPECT_EQ(FindBuiltinProcessor("hysds.utils.validate_checksum_files"),
            BuiltinProcessor::kValidateChecksumFiles);
  EXPECT_EQ(FindBuiltinProcessor("hysds.dataset_ingest_bulk.publish_datasets"),
            BuiltinProcessor::kPublishDatasets);
  EXPECT_EQ(FindBuiltinProcessor("hysds.utils.publish_datasets"),
            BuiltinProcessor::kPublishDatasets);
  EXPECT_EQ(FindBuiltinProcessor("hysds.triage.triage"), BuiltinProcessor::kTriage);
  EXPECT_EQ(FindBuiltinProcessor("hysds.utils.triage"), BuiltinProcessor::kTriage);
  // Anything else is a Python function, HySDS's other functions included.
  EXPECT_EQ(FindBuiltinProcessor("hysds.utils.get_disk_usage"), BuiltinProcessor::kNone);
  EXPECT_EQ(FindBuiltinProcessor("myproject.publish.parallel"), BuiltinProcessor::kNone);
  EXPECT_EQ(FindBuiltinProcessor("triage"), BuiltinProcessor::kNone);
  EXPECT_EQ(FindBuiltinProcessor(""), BuiltinProcessor::kNone);
}

}  // namespace
}  // namespace verdi
