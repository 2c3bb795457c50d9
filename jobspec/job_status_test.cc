#include "jobspec/job_status.h"

#include <gtest/gtest.h>

namespace verdi {
namespace {

TEST(JobStatusTest, SignalStatusNamesAsHySDS) {
  EXPECT_EQ(SignalStatus(1), "job-hangup");
  EXPECT_EQ(SignalStatus(2), "job-interrupted");
  EXPECT_EQ(SignalStatus(3), "job-quit");
  EXPECT_EQ(SignalStatus(6), "job-aborted");
  EXPECT_EQ(SignalStatus(9), "job-killed");
  EXPECT_EQ(SignalStatus(15), "job-terminated");
  EXPECT_EQ(SignalStatus(10), "job-sig-10");
}

TEST(JobStatusTest, RevokedAndSoftLimitErrorsAsHySDS) {
  // job_worker.task_revoked_handler's text, and str(SoftTimeLimitExceeded()).
  EXPECT_EQ(RevokedError(15), "Job was revoked with signal 15.");
  EXPECT_EQ(RevokedError(0), "Job was revoked with signal 0.");
  EXPECT_EQ(ShortError(RevokedError(15)), "Job was revoked with signal 15.");
  EXPECT_STREQ(kSoftTimeLimitError, "SoftTimeLimitExceeded()");
}

TEST(JobStatusTest, ShortErrorKeepsShortMessagesAndCutsLongOnes) {
  EXPECT_EQ(ShortError("Got non-zero exit code: 3"), "Got non-zero exit code: 3");
  std::string exactly35(35, 'x');
  EXPECT_EQ(ShortError(exactly35), exactly35);
  EXPECT_EQ(ShortError("Soft time limit (3600s) exceeded for job-1234567890."),
            "Soft time limit (360.....234567890.");
  // Characters, not bytes: a snowman is one character of three bytes.
  std::string snowmen = "\u2603" + std::string(40, 'x') + "\u2603";
  EXPECT_EQ(ShortError(snowmen),
            "\u2603" + std::string(19, 'x') + "....." + std::string(9, 'x') + "\u2603");
}

}  // namespace
}  // namespace verdi
