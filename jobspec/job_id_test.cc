#include "jobspec/job_id.h"

#include <string>

#include <gtest/gtest.h>

namespace verdi {
namespace {

constexpr const char* kWhy = " (a job id names a directory under the work root)";

std::string Rejection(std::string_view id, const std::string& where = "job.job_id") {
  Status st = ValidateJobId(id, where);
  EXPECT_TRUE(st.IsInvalid()) << "accepted: " << id;
  return st.message();
}

TEST(ValidateJobIdTest, AcceptsRealIds) {
  EXPECT_TRUE(ValidateJobId("hello_world-20240101T000000.0Z", "job.job_id").ok());
  EXPECT_TRUE(ValidateJobId("log_PGE_stats__SSDS-1482-20200903T165919.369776Z", "x").ok());
  EXPECT_TRUE(ValidateJobId("job-hello:develop", "x").ok());
  EXPECT_TRUE(ValidateJobId("a", "x").ok());
  EXPECT_TRUE(ValidateJobId("...", "x").ok());
  EXPECT_TRUE(ValidateJobId(".hidden", "x").ok());
  EXPECT_TRUE(ValidateJobId("a b", "x").ok());
  EXPECT_TRUE(ValidateJobId("h\xc3\xa9llo", "x").ok());  // UTF-8 is fine
}

TEST(ValidateJobIdTest, LengthLimitIs255Bytes) {
  EXPECT_TRUE(ValidateJobId(std::string(255, 'a'), "job.job_id").ok());
  EXPECT_EQ(Rejection(std::string(256, 'a')),
            std::string("job.job_id: is 256 bytes long, at most 255 allowed") + kWhy);
}

TEST(ValidateJobIdTest, RejectsEmptyAndDotNames) {
  EXPECT_EQ(Rejection(""), std::string("job.job_id: is empty") + kWhy);
  EXPECT_EQ(Rejection("."), std::string("job.job_id: \".\" is not a usable name") + kWhy);
  EXPECT_EQ(Rejection(".."), std::string("job.job_id: \"..\" is not a usable name") + kWhy);
}

TEST(ValidateJobIdTest, RejectsSlashes) {
  EXPECT_EQ(Rejection("../etc"), std::string("job.job_id: contains '/' at byte 2") + kWhy);
  EXPECT_EQ(Rejection("a/b"), std::string("job.job_id: contains '/' at byte 1") + kWhy);
  EXPECT_EQ(Rejection("/abs"), std::string("job.job_id: contains '/' at byte 0") + kWhy);
}

TEST(ValidateJobIdTest, RejectsControlCharacters) {
  EXPECT_EQ(Rejection(std::string("ab\0cd", 5)),
            std::string("job.job_id: contains control character 0x00 at byte 2") + kWhy);
  EXPECT_EQ(Rejection("\n"),
            std::string("job.job_id: contains control character 0x0a at byte 0") + kWhy);
  EXPECT_EQ(Rejection("\x7f"),
            std::string("job.job_id: contains control character 0x7f at byte 0") + kWhy);
  EXPECT_EQ(Rejection("a\tb"),
            std::string("job.job_id: contains control character 0x09 at byte 1") + kWhy);
  EXPECT_EQ(Rejection("x\x1b"),
            std::string("job.job_id: contains control character 0x1b at byte 1") + kWhy);
}

TEST(ValidateJobIdTest, MessagesStartWithWhere) {
  EXPECT_EQ(Rejection("", "--job-id"), std::string("--job-id: is empty") + kWhy);
  EXPECT_EQ(Rejection("a/b", "JOB.json: job_id"),
            std::string("JOB.json: job_id: contains '/' at byte 1") + kWhy);
}

}  // namespace
}  // namespace verdi
