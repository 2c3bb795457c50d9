#include "verdi/process/job_cgroup.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>

namespace verdi {
namespace {

// A process in a job's cgroup, even one in a session of its own, ends when
// the cgroup goes, and so does the cgroup.
TEST(JobCgroupTest, EverythingInItIsKilledAndItIsRemoved) {
  std::unique_ptr<JobCgroup> cgroup = JobCgroup::Create();
  ASSERT_NE(cgroup, nullptr) << "no writable cgroup v2 hierarchy on this machine";
  std::string path = cgroup->path();
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    execl("/bin/sleep", "sleep", "100", nullptr);
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(cgroup->Add(pid));
  cgroup.reset();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace verdi
