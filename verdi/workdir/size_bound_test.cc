#include "verdi/workdir/size_bound.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace verdi {
namespace {

namespace fs = std::filesystem;

class WorkRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_work_root_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "root";
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& p, size_t bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << std::string(bytes, 'x');
  }

  // A job dir at minute `minute`, with a `blob` of `bytes`; finished with
  // `exit_code` unless it is still running.
  fs::path Job(int minute, const std::string& id, size_t bytes, int exit_code, bool done = true) {
    fs::path dir =
        root_ / "jobs/2024/01/01/00" / ((minute < 10 ? "0" : "") + std::to_string(minute)) / id;
    Write(dir / "blob", bytes);
    Write(dir / "_job.json", 0);
    Write(dir / "_context.json", 0);
    std::ofstream(dir / "_exit_code") << exit_code;
    std::ofstream(dir / (done ? ".done" : ".running")) << "t";
    // Closed out in the order of the minutes, whatever the ids say.
    fs::last_write_time(dir / (done ? ".done" : ".running"),
                        fs::file_time_type::clock::now() - std::chrono::hours(10 - minute));
    return dir;
  }

  fs::path base_, root_;
};

TEST_F(WorkRootTest, TreeSizeCountsFilesNotSymlinkTargets) {
  Write(root_ / "a/one", 100);
  Write(root_ / "b/two", 50);
  Write(base_ / "outside/big", 100000);
  fs::create_directory_symlink(base_ / "outside", root_ / "a/link");
  fs::create_hard_link(root_ / "a/one", root_ / "b/one-again");
  uint64_t link_bytes = (base_ / "outside").string().size();
  EXPECT_EQ(TreeSize(root_), 150 + link_bytes);
  EXPECT_EQ(TreeSize(root_ / "missing"), 0u);
  EXPECT_EQ(TreeSize(root_ / "a/one"), 100u);
}

TEST_F(WorkRootTest, RemovesFinishedJobsOldestFirstUntilItFits) {
  fs::path j1 = Job(1, "z-ok-1", 1000, 0);
  fs::path j2 = Job(2, "y-failed-2", 1000, 3);
  fs::path j3 = Job(3, "a-ok-3", 1000, 0);
  fs::path j4 = Job(4, "running-4", 1000, 0, /*done=*/false);
  WorkRootBound bound;
  bound.max_bytes = 2100;
  ASSERT_TRUE(BoundWorkRoot(root_, bound).ok());
  EXPECT_FALSE(fs::exists(j1));
  EXPECT_FALSE(fs::exists(j2));  // oldest first, failed or not
  EXPECT_TRUE(fs::exists(j3));
  EXPECT_TRUE(fs::exists(j4));
  EXPECT_LE(TreeSize(root_), 2100u);
  EXPECT_FALSE(fs::exists(root_ / "jobs/2024/01/01/00/01"));  // emptied parents pruned
}

TEST_F(WorkRootTest, InOneMinuteTheFirstClosedOutGoesFirst) {
  fs::path later = Job(5, "a-later", 1000, 0);
  fs::path earlier = Job(5, "b-earlier", 1000, 0);
  fs::last_write_time(earlier / ".done",
                      fs::last_write_time(later / ".done") - std::chrono::seconds(30));
  WorkRootBound bound;
  bound.max_bytes = 1500;
  ASSERT_TRUE(BoundWorkRoot(root_, bound).ok());
  EXPECT_FALSE(fs::exists(earlier));
  EXPECT_TRUE(fs::exists(later));
}

TEST_F(WorkRootTest, KeepFailedRemovesEverySuccessfulJobFirst) {
  fs::path f1 = Job(1, "failed-1", 1000, 1);
  fs::path j2 = Job(2, "ok-2", 1000, 0);
  fs::path f3 = Job(3, "failed-3", 1000, 2);
  fs::path j4 = Job(4, "ok-4", 1000, 0);
  WorkRootBound bound;
  bound.max_bytes = 2100;
  bound.keep_failed = true;
  ASSERT_TRUE(BoundWorkRoot(root_, bound).ok());
  EXPECT_TRUE(fs::exists(f1));
  EXPECT_FALSE(fs::exists(j2));
  EXPECT_TRUE(fs::exists(f3));
  EXPECT_FALSE(fs::exists(j4));
  // Tighter: now the failed ones go, oldest first.
  bound.max_bytes = 1100;
  ASSERT_TRUE(BoundWorkRoot(root_, bound).ok());
  EXPECT_FALSE(fs::exists(f1));
  EXPECT_TRUE(fs::exists(f3));
}

TEST_F(WorkRootTest, NeverRunningJobsDirsInUseOrTheCacheWithoutEvictCache) {
  fs::path running = Job(1, "running", 1000, 0, false);
  fs::path held = Job(2, "held", 1000, 0);
  Write(root_ / "cache/a/b/c/d/e/f.dat", 1000);
  Write(root_ / "cache/a/b/c/d/e/.localized", 0);
  WorkRootBound bound;
  bound.max_bytes = 100;
  bound.in_use = [&](const fs::path& p) { return p == held; };
  Status st = BoundWorkRoot(root_, bound);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("more than --max-work-dir-size 100"), std::string::npos)
      << st.message();
  EXPECT_TRUE(fs::exists(running));
  EXPECT_TRUE(fs::exists(held));
  EXPECT_TRUE(fs::exists(root_ / "cache/a/b/c/d/e/f.dat"));
  bound.evict_cache = true;
  bound.in_use = nullptr;
  EXPECT_FALSE(BoundWorkRoot(root_, bound).ok());  // the running job is still too big
  EXPECT_FALSE(fs::exists(held));
  EXPECT_FALSE(fs::exists(root_ / "cache/a/b/c/d/e"));
  EXPECT_TRUE(fs::exists(running));
}

TEST_F(WorkRootTest, FinishedTaskDirsGoFirst) {
  Write(root_ / "tasks/t1/blob", 500);
  Write(root_ / "tasks/t1/.done", 0);
  Write(root_ / "tasks/t2/blob", 500);  // no .done: running
  fs::path j = Job(1, "ok", 500, 0);
  WorkRootBound bound;
  bound.max_bytes = 1200;
  ASSERT_TRUE(BoundWorkRoot(root_, bound).ok());
  EXPECT_FALSE(fs::exists(root_ / "tasks/t1"));
  EXPECT_TRUE(fs::exists(root_ / "tasks/t2"));
  EXPECT_TRUE(fs::exists(j));
}

TEST_F(WorkRootTest, DeleteWorkRootRemovesItsTreesButNeverThroughASymlink) {
  Job(1, "ok", 10, 0);
  Write(root_ / "cache/x/.localized", 0);
  Write(base_ / "precious/file", 10);
  fs::create_directory_symlink(base_ / "precious", root_ / "jobs/link");
  ASSERT_TRUE(DeleteWorkRoot(root_).ok());
  EXPECT_FALSE(fs::exists(root_));
  EXPECT_TRUE(fs::exists(base_ / "precious/file"));
}

TEST_F(WorkRootTest, DeleteWorkRootKeepsOtherFilesAndOpenJobs) {
  Job(1, "ok", 10, 0);
  Write(root_ / "notes.txt", 10);
  ASSERT_TRUE(DeleteWorkRoot(root_).ok());
  EXPECT_FALSE(fs::exists(root_ / "jobs"));
  EXPECT_TRUE(fs::exists(root_ / "notes.txt"));  // not ours: the root stays

  fs::path open = Job(2, "open", 10, 0, /*done=*/false);
  Status st = DeleteWorkRoot(root_);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(open.string()), std::string::npos);
  EXPECT_TRUE(fs::exists(open));
}

}  // namespace
}  // namespace verdi
