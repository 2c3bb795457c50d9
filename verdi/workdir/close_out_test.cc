#include "verdi/workdir/close_out.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "base/files.h"
#include "verdi/workdir/job_dir.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

class CloseOutTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-closeout-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(CreateJobDir(root_ / "jobs/job-a", WallClock::now(), "w", &dir_).ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_, dir_;
};

TEST_F(CloseOutTest, WritesTheFinalJobInfoThenDone) {
  Json job = {{"job_id", "a"}, {"job_info", {{"pid", 42}}}};
  std::ofstream(dir_ / "out.bin") << std::string(1000, 'x');
  JobEnd end{"job-failed",    0, "it broke", 15, WallClock::now() - std::chrono::seconds(3),
             WallClock::now()};
  ASSERT_TRUE(CloseOutJobDir(dir_, end, &job).ok());
  Json written;
  ASSERT_TRUE(ReadJsonFile((dir_ / "_job.json").string(), &written).ok());
  EXPECT_EQ(written, job);
  const Json& info = written["job_info"];
  EXPECT_EQ(info["status"], 1);  // a failure is never 0
  EXPECT_EQ(info["pid"], 42);
  EXPECT_EQ(info["job_status"], "job-failed");
  EXPECT_EQ(info["error"], "it broke");
  EXPECT_EQ(info["signum"], 15);
  EXPECT_NEAR(info["duration"].get<double>(), 3.0, 0.01);
  EXPECT_GE(info["metrics"]["job_dir_size"].get<uint64_t>(), 1000u);
  EXPECT_TRUE(fs::exists(dir_ / ".done"));
  EXPECT_FALSE(fs::exists(dir_ / ".running"));
}

// What the job left in place of verdi's files is not followed: a link to a
// host file leaves the host file as it was, a FIFO does not block.
TEST_F(CloseOutTest, AnAbandonedJobsLinksAndFifosAreNotFollowed) {
  fs::path outside = root_ / "host-file";
  std::ofstream(outside) << "host\n";
  fs::create_symlink(outside, dir_ / "_stderr.txt");
  ASSERT_EQ(mkfifo((dir_ / "_job.json").c_str(), 0644), 0);
  Json job;
  Status st = CloseOutAbandonedJob(dir_, "worker died", WallClock::now(), &job);
  EXPECT_TRUE(fs::exists(dir_ / ".done"));
  std::string host;
  ASSERT_TRUE(ReadFileToString(outside.string(), &host).ok());
  EXPECT_EQ(host, "host\n");
  EXPECT_EQ(job["job_info"]["job_status"], "job-failed");
  EXPECT_EQ(job["job_info"]["error"], "worker died");
  (void)st;
}

// Directories the job made at verdi's names (locked, not empty) are
// replaced: the dir is closed out as any other.
TEST_F(CloseOutTest, DirectoriesAtVerdisNamesAreReplaced) {
  for (const char* name : {".running", "_job.json", ".done"}) {
    fs::remove(dir_ / name);
    fs::create_directories(dir_ / name / "inside");
    fs::permissions(dir_ / name, fs::perms::none);
  }
  Json job = {{"job_id", "a"}};
  JobEnd end{"job-completed", 0, "", 0, std::nullopt, WallClock::now()};
  Status st = CloseOutJobDir(dir_, end, &job);
  EXPECT_TRUE(st.ok()) << st.message();
  Json written;
  ASSERT_TRUE(ReadJsonFile((dir_ / "_job.json").string(), &written).ok());
  EXPECT_EQ(written["job_info"]["job_status"], "job-completed");
  EXPECT_TRUE(fs::is_regular_file(dir_ / ".done"));
  EXPECT_FALSE(fs::exists(dir_ / ".running"));
}

}  // namespace
}  // namespace verdi
