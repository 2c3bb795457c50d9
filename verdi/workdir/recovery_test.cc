#include "verdi/workdir/recovery.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/files.h"
#include "verdi/workdir/job_dir.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

class RecoveryTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi-recovery-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    for (pid_t pid : children_) {
      kill(-pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    fs::remove_all(root_);
  }

  fs::path OpenJob(const std::string& id, const std::string& owner) {
    fs::path dir;
    EXPECT_TRUE(
        CreateJobDir(root_ / "jobs/2024/01/02/03/04" / id, WallClock::now(), owner, &dir).ok());
    return dir;
  }

  // A job command left running: its own process group, cwd `dir`.
  pid_t StartSleeper(const fs::path& dir) {
    pid_t pid = fork();
    if (pid == 0) {
      setsid();
      if (chdir(dir.c_str()) != 0) _exit(1);
      execl("/bin/sleep", "sleep", "60", nullptr);
      _exit(127);
    }
    children_.push_back(pid);
    std::ofstream(dir / "_pid") << pid;
    // Wait until it runs in `dir` (chdir happened) before recovering.
    for (int i = 0; i < 200; ++i) {
      std::error_code ec;
      if (fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec) == dir) break;
      usleep(5000);
    }
    return pid;
  }

  bool Reaped(pid_t pid) {
    for (int i = 0; i < 200; ++i) {
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid)
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
      usleep(5000);
    }
    return false;
  }

  fs::path root_;
  std::vector<pid_t> children_;
};

TEST_F(RecoveryTest, ClosesOutOwnDirsAndKillsWhatStillRuns) {
  fs::path mine = OpenJob("job-a", "celery@host");
  fs::path finished = OpenJob("job-b", "celery@host");
  ASSERT_TRUE(MarkJobDone(finished, WallClock::now()).ok());
  fs::path others = OpenJob("job-c", "celery@other");
  pid_t orphan = StartSleeper(mine);
  pid_t not_ours = StartSleeper(others);

  EXPECT_EQ(RecoverAbandonedJobs(root_, "celery@host", WallClock::now()), 1);
  EXPECT_TRUE(Reaped(orphan));
  EXPECT_TRUE(fs::exists(mine / ".done"));
  EXPECT_FALSE(fs::exists(mine / ".running"));
  // Another worker's running job is left alone.
  EXPECT_TRUE(fs::exists(others / ".running"));
  EXPECT_EQ(kill(not_ours, 0), 0);
}

TEST_F(RecoveryTest, APidNowUsedElsewhereIsNotKilled) {
  fs::path mine = OpenJob("job-a", "celery@host");
  fs::path elsewhere = root_ / "elsewhere";
  fs::create_directories(elsewhere);
  pid_t unrelated = StartSleeper(elsewhere);
  std::ofstream(mine / "_pid") << unrelated;  // the pid was reused by another process

  EXPECT_EQ(RecoverAbandonedJobs(root_, "celery@host", WallClock::now()), 1);
  EXPECT_EQ(kill(unrelated, 0), 0);
  EXPECT_TRUE(fs::exists(mine / ".done"));
}

// A host job left by a dead worker ends as a container job does: a final
// `_job.json` with job-failed and the reason, the reason in `_stderr.txt`,
// `.done`, and its status reported.
TEST_F(RecoveryTest, AnAbandonedHostJobIsClosedOutAndReportedAsFailed) {
  fs::path mine = OpenJob("job-a", "celery@host");
  std::ofstream(mine / "_job.json") << R"({"job_id": "job-a", "job_info": {"status": 0}})";
  std::ofstream(mine / "_stderr.txt") << "the job's own line\n";
  std::vector<std::pair<Json, std::string>> reported;
  auto report = [&](const Json& job, const std::string& reason) {
    reported.emplace_back(job, reason);
  };

  EXPECT_EQ(RecoverAbandonedJobs(root_, "celery@host", WallClock::now(), report), 1);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].first["job_id"], "job-a");
  EXPECT_NE(reported[0].second.find("celery@host restarted"), std::string::npos);
  Json job;
  ASSERT_TRUE(ReadJsonFile((mine / "_job.json").string(), &job).ok());
  EXPECT_EQ(job["job_info"]["job_status"], "job-failed");
  EXPECT_EQ(job["job_info"]["status"], 1);
  EXPECT_EQ(job["job_info"]["error"], reported[0].second);
  std::string err;
  ASSERT_TRUE(ReadFileToString((mine / "_stderr.txt").string(), &err).ok());
  EXPECT_EQ(err, "the job's own line\n" + reported[0].second + "\n");
  EXPECT_TRUE(fs::exists(mine / ".done"));
}

}  // namespace
}  // namespace verdi
