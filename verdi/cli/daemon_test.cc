#include "verdi/cli/daemon.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/test_files.h"

namespace verdi {
namespace {

TEST(DaemonTest, APidFileOfARunningProcessStopsASecondStart) {
  std::string dir = testing::TempDir() + "/verdi_daemon_test_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/worker.pid";
  ASSERT_TRUE(CreatePidFile(path).ok());
  EXPECT_EQ(test_files::Read(path), std::to_string(getpid()) + "\n");
  // Another live process (our parent) named in it: refused.
  test_files::Write(path, std::to_string(getppid()) + "\n");
  Status st = CreatePidFile(path);
  EXPECT_TRUE(st.IsInvalid());
  EXPECT_NE(st.message().find("still runs"), std::string::npos) << st.message();
  // A dead one: replaced.
  test_files::Write(path, "999999999\n");
  EXPECT_TRUE(CreatePidFile(path).ok());
  RemovePidFile(path);
  EXPECT_FALSE(std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace verdi
