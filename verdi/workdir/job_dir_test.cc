#include "verdi/workdir/job_dir.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace verdi {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// 2024-01-02T03:04:05Z.
WallClock::time_point Jan2() {
  return WallClock::time_point(sys_days{year{2024} / 1 / 2}.time_since_epoch() + 3h + 4min + 5s);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

uint64_t StSize(const fs::path& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_size);
}

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class WorkDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_workdir_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  fs::path tmp_;
};

TEST(WorkDirPathTest, FormatsUtcPartsZeroPadded) {
  EXPECT_EQ(JobDirRelative(Jan2(), "job-1"), "jobs/2024/01/02/03/04/job-1");
  EXPECT_EQ(JobDirPath("/data/work", Jan2(), "job-1"),
            fs::path("/data/work/jobs/2024/01/02/03/04/job-1"));
  // Fractions of a second and the last second of a year stay in that minute.
  auto last = WallClock::time_point(sys_days{year{2023} / 12 / 31}.time_since_epoch() + 23h +
                                    59min + 59s + 999ms);
  EXPECT_EQ(JobDirRelative(last, "x"), "jobs/2023/12/31/23/59/x");
  EXPECT_EQ(JobDirRelative(WallClock::time_point{}, "y"), "jobs/1970/01/01/00/00/y");
}

TEST_F(WorkDirTest, CreateJobDirWritesRunningWithTimeAndOwner) {
  fs::path dir = JobDirPath(tmp_, Jan2(), "job-1");
  fs::path created;
  Status st = CreateJobDir(dir, Jan2() + 123456us, "worker-7@host", &created);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(created, dir);
  EXPECT_EQ(ReadFile(dir / ".running"), "2024-01-02T03:04:05.123456Z\nworker-7@host\n");
  // No temporary file is left behind.
  EXPECT_EQ(Names(dir), std::vector<std::string>{".running"});
}

TEST_F(WorkDirTest, CreateJobDirNeverReusesAnExistingDir) {
  fs::path dir = tmp_ / "jobs" / "j";
  fs::create_directories(dir);
  WriteFile(dir / "leftover.txt", "x");
  fs::path created;
  ASSERT_TRUE(CreateJobDir(dir, Jan2(), "w", &created).ok());
  EXPECT_EQ(created, tmp_ / "jobs" / "j.2");
  EXPECT_EQ(ReadFile(created / ".running"), "2024-01-02T03:04:05.000000Z\nw\n");
  EXPECT_EQ(Names(created), std::vector<std::string>{".running"});
  EXPECT_FALSE(fs::exists(dir / ".running"));
}

TEST_F(WorkDirTest, TwoExecutionsOfOneJobGetTwoDirectories) {
  fs::path dir = tmp_ / "jobs" / "j";
  fs::path first, second, third;
  ASSERT_TRUE(CreateJobDir(dir, Jan2(), "first", &first).ok());
  ASSERT_TRUE(CreateJobDir(dir, Jan2() + 1s, "second", &second).ok());
  ASSERT_TRUE(MarkJobDone(first, Jan2() + 2s).ok());
  ASSERT_TRUE(CreateJobDir(dir, Jan2() + 3s, "third", &third).ok());
  EXPECT_EQ(first, dir);
  EXPECT_EQ(second, tmp_ / "jobs" / "j.2");
  EXPECT_EQ(third, tmp_ / "jobs" / "j.3");
  // Each owner's marker is untouched by the others.
  EXPECT_EQ(ReadFile(second / ".running"), "2024-01-02T03:04:06.000000Z\nsecond\n");
  EXPECT_TRUE(fs::exists(first / ".done"));
}

TEST_F(WorkDirTest, CreateJobDirFailsWhenPathIsAFile) {
  WriteFile(tmp_ / "file", "x");
  fs::path created;
  Status st = CreateJobDir(tmp_ / "file" / "job", Jan2(), "w", &created);
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_NE(st.message().find((tmp_ / "file" / "job").string()), std::string::npos);
}

TEST_F(WorkDirTest, MarkJobDoneRenamesRunningAndWritesTime) {
  fs::path dir = tmp_ / "j";
  ASSERT_TRUE(CreateJobDir(dir, Jan2(), "w", &dir).ok());
  Status st = MarkJobDone(dir, Jan2() + 90s);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(fs::exists(dir / ".running"));
  EXPECT_EQ(ReadFile(dir / ".done"), "2024-01-02T03:05:35.000000Z\n");
  EXPECT_EQ(Names(dir), std::vector<std::string>{".done"});
}

// The time goes into `.running`'s own file only while it is verdi's: one
// the job swapped for a hard link to another file, or for a symlink, is
// replaced by a new `.done`, the other file left as it was.
TEST_F(WorkDirTest, MarkJobDoneNeverWritesThroughWhatTheJobPutAtRunning) {
  for (bool hard : {true, false}) {
    fs::path dir = tmp_ / (hard ? "hard" : "soft");
    ASSERT_TRUE(CreateJobDir(dir, Jan2(), "w", &dir).ok());
    fs::path other = tmp_ / (hard ? "host-hard.txt" : "host-soft.txt");
    std::ofstream(other) << "host file";
    ASSERT_TRUE(fs::remove(dir / ".running"));
    if (hard)
      fs::create_hard_link(other, dir / ".running");
    else
      fs::create_symlink(other, dir / ".running");
    Status st = MarkJobDone(dir, Jan2() + 1s);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(ReadFile(dir / ".done"), "2024-01-02T03:04:06.000000Z\n");
    EXPECT_FALSE(fs::is_symlink(dir / ".done"));
    EXPECT_EQ(ReadFile(other), "host file");
  }
}

TEST_F(WorkDirTest, MarkJobDoneReplacesADirectoryTheJobMadeAtDone) {
  for (bool running_too : {false, true}) {
    fs::path dir = tmp_ / (running_too ? "both" : "done-only");
    ASSERT_TRUE(CreateJobDir(dir, Jan2(), "w", &dir).ok());
    fs::create_directories(dir / ".done" / "sub");
    if (running_too) {
      ASSERT_TRUE(fs::remove(dir / ".running"));
    }
    Status st = MarkJobDone(dir, Jan2() + 1s);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(ReadFile(dir / ".done"), "2024-01-02T03:04:06.000000Z\n");
    EXPECT_FALSE(fs::exists(dir / ".running"));
  }
}

TEST_F(WorkDirTest, MarkJobDoneCreatesDoneWhenRunningIsGone) {
  fs::path dir = tmp_ / "j";
  ASSERT_TRUE(CreateJobDir(dir, Jan2(), "w", &dir).ok());
  ASSERT_TRUE(fs::remove(dir / ".running"));
  Status st = MarkJobDone(dir, Jan2() + 1s);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(ReadFile(dir / ".done"), "2024-01-02T03:04:06.000000Z\n");
  EXPECT_FALSE(fs::exists(dir / ".running"));
}

TEST_F(WorkDirTest, MarkJobDoneFailsInAMissingDir) {
  Status st = MarkJobDone(tmp_ / "missing", Jan2());
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_NE(st.message().find((tmp_ / "missing" / ".done").string()), std::string::npos)
      << st.message();
}

TEST_F(WorkDirTest, ALongestJobIdCanRunAgainInTheSameMinute) {
  std::string id(255, 'j');
  fs::path first, second, third;
  WallClock::time_point now = WallClock::now();
  ASSERT_TRUE(CreateJobDir(tmp_ / "jobs" / id, now, "w", &first).ok());
  Status st = CreateJobDir(tmp_ / "jobs" / id, now, "w", &second);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(CreateJobDir(tmp_ / "jobs" / id, now, "w", &third).ok());
  EXPECT_EQ(second.filename().string(), std::string(253, 'j') + ".2");
  EXPECT_EQ(third.filename().string(), std::string(253, 'j') + ".3");
  EXPECT_TRUE(fs::exists(second / ".running"));
}

TEST_F(WorkDirTest, DirectorySizeCountsFilesAndDirectories) {
  fs::path dir = tmp_ / "d";
  fs::create_directories(dir / "sub");
  WriteFile(dir / "a", std::string(100, 'a'));
  WriteFile(dir / "sub" / "b", std::string(250, 'b'));
  uint64_t expected = StSize(dir) + StSize(dir / "sub") + 100 + 250;
  EXPECT_EQ(DirectorySize(dir, tmp_), expected);
  EXPECT_EQ(DirectorySize(tmp_ / "missing", tmp_), 0u);
}

TEST_F(WorkDirTest, DirectorySizeFollowsASymlinkIntoTheWorkRootOnly) {
  fs::path dir = tmp_ / "root/d";
  fs::create_directories(dir);
  fs::create_directories(tmp_ / "root/cache");
  WriteFile(tmp_ / "root/cache/input", std::string(1000, 'i'));
  WriteFile(tmp_ / "host-file", std::string(5000, 'h'));
  WriteFile(dir / "a", std::string(10, 'a'));
  fs::create_symlink(tmp_ / "root/cache/input", dir / "localized");
  fs::create_symlink(tmp_ / "host-file", dir / "to-host");
  fs::create_symlink("/", dir / "rootlink");
  // The localized input's size counts; the links out count as links.
  uint64_t links = fs::read_symlink(dir / "to-host").string().size() + 1;  // "/"
  EXPECT_EQ(DirectorySize(dir, tmp_ / "root"), StSize(dir) + 10 + 1000 + links);
}

TEST_F(WorkDirTest, DirectorySizeDoesNotLoopOnASymlinkCycle) {
  fs::path dir = tmp_ / "d";
  fs::create_directories(dir / "sub");
  WriteFile(dir / "sub" / "f", std::string(42, 'f'));
  fs::create_symlink("..", dir / "sub" / "up");  // sub/up -> d
  fs::create_symlink(dir / "sub", dir / "sub" / "self");
  EXPECT_EQ(DirectorySize(dir, tmp_), StSize(dir) + StSize(dir / "sub") + 42);
}

TEST_F(WorkDirTest, DirectorySizeCountsAHardLinkedFileOnce) {
  fs::path dir = tmp_ / "d";
  fs::create_directories(dir);
  WriteFile(dir / "a", std::string(300, 'a'));
  fs::create_hard_link(dir / "a", dir / "b");
  fs::create_symlink(dir / "b", dir / "c");
  EXPECT_EQ(DirectorySize(dir, tmp_), StSize(dir) + 300);
}

TEST_F(WorkDirTest, DirectorySizeMatchesDuSbL) {
  fs::path dir = tmp_ / "d";
  fs::create_directories(dir / "x" / "y");
  WriteFile(dir / "a", std::string(1234, 'a'));
  WriteFile(dir / "x" / "y" / "b", std::string(4321, 'b'));
  fs::create_hard_link(dir / "a", dir / "x" / "a2");
  fs::create_symlink(dir / "x", dir / "x" / "y" / "loop");
  WriteFile(tmp_ / "outside", std::string(777, 'o'));
  fs::create_symlink(tmp_ / "outside", dir / "out");
  std::string cmd = "du -sbL '" + dir.string() + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  unsigned long long du = 0;
  int n = fscanf(p, "%llu", &du);
  int rc = pclose(p);
  if (n != 1 || rc != 0) GTEST_SKIP() << "du -sbL is not available";
  EXPECT_EQ(DirectorySize(dir, tmp_), du);
}

}  // namespace
}  // namespace verdi
