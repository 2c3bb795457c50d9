#include "verdi/job/job_dedup.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

// The body hysds.utils.query_dedup_job builds for the worker
// (filter_id = the task, states = job-started and job-completed).
TEST(DedupQueryTest, IsHysdsWorkersQuery) {
  EXPECT_EQ(DedupQuery("abc123", "task-1", {"job-started", "job-completed"}), Json::parse(R"({
    "sort": [{"job.job_info.time_queued": {"order": "asc"}}],
    "size": 1,
    "_source": ["_id", "status"],
    "query": {"bool": {
      "must": [
        {"term": {"payload_hash": "abc123"}},
        {"bool": {"should": [{"terms": {"status": ["job-started", "job-completed"]}}]}}
      ],
      "must_not": {"term": {"uuid": "task-1"}}
    }}
  })"));
}

TEST(DuplicateFromResponseTest, HitsOfElasticsearch7And6) {
  std::optional<DuplicateJob> found;
  ASSERT_TRUE(DuplicateFromResponse(Json::parse(R"({"hits": {"total": {"value": 2,
      "relation": "eq"}, "hits": [{"_id": "p1", "_source": {"status": "job-completed"}}]}})"),
                                    &found)
                  .ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, "p1");
  EXPECT_EQ(found->status, "job-completed");
  ASSERT_TRUE(DuplicateFromResponse(Json::parse(R"({"hits": {"total": 1, "hits": [
      {"_id": "p2", "_source": {"status": "job-started"}}]}})"),
                                    &found)
                  .ok());
  EXPECT_EQ(found->id, "p2");
  ASSERT_TRUE(
      DuplicateFromResponse(Json::parse(R"({"hits": {"total": {"value": 0}, "hits": []}})"), &found)
          .ok());
  EXPECT_FALSE(found);
}

TEST(DuplicateFromResponseTest, OtherShapesAreErrors) {
  std::optional<DuplicateJob> found;
  EXPECT_EQ(DuplicateFromResponse(Json::parse(R"({"error": "x"})"), &found).message(),
            "expected hits.total (a number, or {\"value\": n}) in the answer");
  EXPECT_EQ(
      DuplicateFromResponse(Json::parse(R"({"hits": {"total": 1, "hits": []}})"), &found).message(),
      "hits.total is not 0 but hits.hits has no hit");
  EXPECT_EQ(
      DuplicateFromResponse(Json::parse(R"({"hits": {"total": 1, "hits": [{"_id": 3}]}})"), &found)
          .message(),
      "the hit has no _id or _source.status");
}

}  // namespace
}  // namespace verdi
