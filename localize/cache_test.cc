// The input cache against a job that would rewrite it: entries read-only
// once complete, inputs linked below another's cache link or onto the
// worker's own files refused, and eviction as a non-root owner.
#include "localize/cache.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "base/dir_tree.h"
#include "localize/destination.h"
#include "localize/mark_datasets.h"
#include "tests/test_files.h"

namespace verdi::localize {
namespace {
namespace fs = std::filesystem;

using test_files::Read;
using test_files::Write;

constexpr uid_t kNobody = 65534;

mode_t Mode(const fs::path& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// Runs `body` in a child process as `nobody` (when this is root); the
// child's exit code: 0 when every check in it passed, else which failed.
int AsNobody(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (geteuid() == 0 &&
        (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0))
      _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_cache_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cache_ = dir_ / "cache";
    // An input that is a dataset directory, and a plain file (executable).
    Write(dir_ / "src/DS1/DS1.dataset.json", R"({"version": "v1"})");
    Write(dir_ / "src/DS1/data/granule.bin", "pristine granule");
    Write(dir_ / "src/tool.sh", "#!/bin/sh\necho pristine\n");
    fs::permissions(dir_ / "src/tool.sh", fs::perms(0755));
  }
  void TearDown() override { EXPECT_TRUE(RemoveTree(dir_).ok()); }

  Status Localize(const std::vector<LocalizeItem>& items) {
    std::vector<FetchResult> results;
    return LocalizeAll(items, cache_, FetchOptions(), &results);
  }
  std::string Url(const std::string& rel) { return "file://" + (dir_ / "src" / rel).string(); }

  fs::path dir_, cache_;
};

TEST_F(CacheTest, CompleteEntriesAreReadOnlyAndDatasetsMarkedFirst) {
  fs::path job = dir_ / "job1";
  ASSERT_TRUE(
      Localize({{Url("DS1"), job / "DS1", true}, {Url("tool.sh"), job / "tool.sh", true}}).ok());
  fs::path ds = CacheEntryDir(cache_, Url("DS1"));
  fs::path tool = CacheEntryDir(cache_, Url("tool.sh"));
  EXPECT_EQ(Mode(ds), 0555u);
  EXPECT_EQ(Mode(ds / ".localized"), 0444u);
  EXPECT_EQ(Mode(ds / "DS1"), 0555u);
  EXPECT_EQ(Mode(ds / "DS1/data"), 0555u);
  EXPECT_EQ(Mode(ds / "DS1/data/granule.bin"), 0444u);
  EXPECT_EQ(Mode(ds / "DS1/DS1.dataset.json"), 0444u);
  EXPECT_EQ(Mode(tool), 0555u);
  EXPECT_EQ(Mode(tool / "tool.sh"), 0555u);  // read-only, still executable
  // The input dataset was marked before the entry became read-only; the job
  // dir's marking pass leaves it as it is.
  EXPECT_TRUE(fs::is_regular_file(ds / "DS1/.localized"));
  std::vector<fs::path> marked;
  ASSERT_TRUE(MarkLocalizedDatasets(job, &marked).ok());
  EXPECT_EQ(marked, std::vector<fs::path>{job / "DS1"});
}

TEST_F(CacheTest, SameUserJobCannotRewriteAnEntryAndTheOwnerStillEvictsIt) {
  // The worker and its jobs as one non-root user: the cache and the sources
  // are theirs.
  ASSERT_EQ(chown(dir_.c_str(), kNobody, kNobody), 0);
  for (auto it = fs::recursive_directory_iterator(dir_); it != fs::recursive_directory_iterator();
       ++it)
    ASSERT_EQ(lchown(it->path().c_str(), kNobody, kNobody), 0);
  fs::path entry = CacheEntryDir(cache_, Url("DS1"));
  int code = AsNobody([&] {
    fs::path job = dir_ / "job1";
    if (!Localize({{Url("DS1"), job / "DS1", true}}).ok()) return 1;
    // The job writes to its input, and into the entry: both refused.
    int fd = open((job / "DS1/data/granule.bin").c_str(), O_WRONLY | O_TRUNC);
    if (fd >= 0 || errno != EACCES) return 2;
    fd = open((job / "DS1/data/new.bin").c_str(), O_WRONLY | O_CREAT, 0644);
    if (fd >= 0 || errno != EACCES) return 3;
    if (unlink((job / "DS1/DS1.dataset.json").c_str()) == 0 || errno != EACCES) return 4;
    // A second job gets the pristine content.
    if (!Localize({{Url("DS1"), dir_ / "job2/DS1", true}}).ok()) return 5;
    if (Read(dir_ / "job2/DS1/data/granule.bin") != "pristine granule") return 6;
    // Eviction by the owner: unmarked, then removed, read-only dirs and all.
    {
      CacheEntryLock lock(entry);
      if (!lock.held()) return 7;
      if (!UnmarkCacheEntry(entry).ok()) return 8;
      if (!RemoveTree(entry).ok()) return 9;
      if (fs::exists(entry)) return 10;
    }
    // Refilled after that.
    if (!Localize({{Url("DS1"), dir_ / "job3/DS1", true}}).ok()) return 11;
    return Read(dir_ / "job3/DS1/data/granule.bin") == "pristine granule" ? 0 : 12;
  });
  EXPECT_EQ(code, 0);
}

TEST_F(CacheTest, AnIncompleteReadOnlyEntryIsReplacedOnTheNextFill) {
  // What an eviction that stopped after unmarking leaves: no .localized, read-only dirs.
  ASSERT_TRUE(Localize({{Url("DS1"), dir_ / "job1/DS1", true}}).ok());
  fs::path entry = CacheEntryDir(cache_, Url("DS1"));
  ASSERT_TRUE(UnmarkCacheEntry(entry).ok());
  fs::permissions(entry, fs::perms(0555));
  ASSERT_TRUE(Localize({{Url("DS1"), dir_ / "job2/DS1", true}}).ok());
  EXPECT_TRUE(fs::exists(entry / ".localized"));
  EXPECT_EQ(Read(dir_ / "job2/DS1/data/granule.bin"), "pristine granule");
}

TEST_F(CacheTest, InputBelowAnotherInputsCacheLinkIsRefusedBeforeAnyFetch) {
  fs::path job = dir_ / "job1";
  Status st = Localize(
      {{Url("DS1"), job / "DS1", true}, {Url("tool.sh"), job / "DS1/data/granule.bin", false}});
  ASSERT_TRUE(st.IsInvalid()) << st.message();
  EXPECT_EQ(st.message(), "localize_urls[1]: lands at " + (job / "DS1/data/granule.bin").string() +
                              ", inside " + (job / "DS1").string() +
                              ", which links to the input cache entry of localize_urls[0]: "
                              "refused (it would write into the cache)");
  // Cached or not, in either order.
  st = Localize({{Url("tool.sh"), job / "DS1/x/tool.sh", true}, {Url("DS1"), job / "DS1", true}});
  EXPECT_NE(st.message().find("localize_urls[0]: lands at"), std::string::npos) << st.message();
  st = Localize({{Url("tool.sh"), job / "t", false}, {Url("DS1"), job / "t", false}});
  EXPECT_NE(st.message().find("localize_urls[1]: lands at " + (job / "t").string() +
                              ", where localize_urls[0] lands too"),
            std::string::npos)
      << st.message();
  EXPECT_FALSE(fs::exists(job));
  EXPECT_FALSE(fs::exists(cache_));
  // Beside each other is fine.
  EXPECT_TRUE(
      Localize({{Url("DS1"), job / "DS1", true}, {Url("tool.sh"), job / "DS1x", true}}).ok());
}

}  // namespace
}  // namespace verdi::localize
