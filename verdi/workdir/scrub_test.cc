#include "verdi/workdir/scrub.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "localize/cache.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kUnit = 1000;  // one percent of the fake file system
constexpr uint64_t kCapacity = 100 * kUnit;

// A file system of `capacity` bytes on which only files named "blob" under
// `root` take space (found without following symlinks, so nothing outside
// `root` counts), plus `extra_used` bytes that never go away. Removing a
// directory therefore frees exactly the blobs it held.
class FakeMachine : public Machine {
 public:
  FakeMachine(fs::path root, uint64_t capacity, uint64_t extra_used = 0)
      : root_(std::move(root)), capacity_(capacity), extra_used_(extra_used) {}

  WallClock::time_point Now() override { return WallClock::time_point(std::chrono::hours(1)); }

  Status GetDiskSpace(const std::string& path, DiskSpace* out) override {
    ++calls;
    paths.insert(path);
    if (fail) return Status::IOError("statvfs " + path, EIO);
    uint64_t used = extra_used_;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code sec;
      if (it->path().filename() == "blob" && fs::is_regular_file(it->symlink_status(sec))) {
        used += it->file_size(sec);
      }
    }
    out->capacity_bytes = capacity_;
    out->free_bytes = capacity_ - std::min(used, capacity_);
    return Status::OK();
  }

  int calls = 0;
  std::set<std::string> paths;
  bool fail = false;

 private:
  fs::path root_;
  uint64_t capacity_;
  uint64_t extra_used_;
};

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// A directory holding `marker_files` (content "x", except _exit_code and
// .localized whose content is given) and a blob of `percent` percent.
void MakeDir(const fs::path& dir, const std::vector<std::string>& files, int percent,
             const std::string& special = "") {
  fs::create_directories(dir);
  for (const std::string& f : files) {
    WriteFile(dir / f, f == "_exit_code" || f == ".localized" ? special : "x");
  }
  if (percent > 0) WriteFile(dir / "blob", std::string(percent * kUnit, 'b'));
}

const std::vector<std::string> kSuccessful = {".done", "_context.json", "_job.json", "_exit_code"};
const std::vector<std::string> kRunning = {".running", "_context.json", "_job.json"};

bool IsFailedStatus(const Status& st) { return !st.ok() && !st.IsInvalid() && !st.IsIOError(); }

class ScrubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/verdi_scrub_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    root_ = tmp_ / "work";
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  // The standard tree: 75% in removable or running work, `filler` percent
  // that is never removable.
  //   tasks/t1 (.done, 10)          tasks/t2 (running, 5)
  //   jobs/2024/01/01/00/00/a (ok, 10)
  //   jobs/2024/01/01/00/05/d (running, 10)
  //   jobs/2024/01/02/00/00/b (exit 1, 10)
  //   jobs/2024/01/03/00/00/c (ok, 10)
  //   cache/a/b/c/e (.localized 2024-02-01, 10)   cache/z/f (.localized 2024-01-15, 10)
  //   cache/image.tar (a file, never evicted)
  void BuildStandardTree(int filler) {
    MakeDir(root_ / "tasks/t1", {".done"}, 10);
    MakeDir(root_ / "tasks/t2", {".running"}, 5);
    MakeDir(root_ / "jobs/2024/01/01/00/00/a", kSuccessful, 10, "0\n");
    MakeDir(root_ / "jobs/2024/01/01/00/05/d", kRunning, 10);
    MakeDir(root_ / "jobs/2024/01/02/00/00/b", kSuccessful, 10, "1\n");
    MakeDir(root_ / "jobs/2024/01/03/00/00/c", kSuccessful, 10, "0\n");
    MakeDir(root_ / "cache/a/b/c/e", {".localized"}, 10, "2024-02-01T00:00:00.000000Z\n");
    MakeDir(root_ / "cache/z/f", {".localized"}, 10, "2024-01-15T00:00:00.000000Z\n");
    WriteFile(root_ / "cache/image.tar", "tarball");
    MakeDir(root_ / "other", {}, filler);
  }

  // Which of the standard tree's removable or running dirs are still there.
  std::vector<std::string> Remaining() {
    std::vector<std::string> out;
    for (const char* rel :
         {"tasks/t1", "tasks/t2", "jobs/2024/01/01/00/00/a", "jobs/2024/01/01/00/05/d",
          "jobs/2024/01/02/00/00/b", "jobs/2024/01/03/00/00/c", "cache/a/b/c/e", "cache/z/f"}) {
      if (fs::exists(root_ / rel)) out.push_back(fs::path(rel).filename());
    }
    EXPECT_TRUE(fs::exists(root_ / "other/blob"));
    EXPECT_TRUE(fs::exists(root_ / "cache/image.tar"));
    return out;
  }

  fs::path tmp_;
  fs::path root_;
};

using Names = std::vector<std::string>;

TEST(ScrubPercentTest, PercentFreeRoundsUp) {
  EXPECT_EQ(PercentFree({0, 1000}), 0);
  EXPECT_EQ(PercentFree({1, 1000}), 1);  // 0.1% -> 1
  EXPECT_EQ(PercentFree({100, 1000}), 10);
  EXPECT_EQ(PercentFree({101, 1000}), 11);  // 10.1% -> 11
  EXPECT_EQ(PercentFree({999, 1000}), 100);
  EXPECT_EQ(PercentFree({1000, 1000}), 100);
  EXPECT_EQ(PercentFree({5, 0}), 0);
  // No overflow on huge file systems.
  EXPECT_EQ(PercentFree({UINT64_MAX / 2, UINT64_MAX}), 50);
  EXPECT_EQ(PercentFree({UINT64_MAX / 2 + 1, UINT64_MAX}), 51);
}

TEST(ScrubPercentTest, ThresholdPercent) {
  EXPECT_EQ(ThresholdPercent(std::nullopt, 1000), 10);
  EXPECT_EQ(ThresholdPercent(std::nullopt, 0), 10);
  EXPECT_EQ(ThresholdPercent(uint64_t{0}, 1000), 0);
  EXPECT_EQ(ThresholdPercent(uint64_t{1}, 1000), 1);  // rounds up
  EXPECT_EQ(ThresholdPercent(uint64_t{250}, 1000), 25);
  EXPECT_EQ(ThresholdPercent(uint64_t{251}, 1000), 26);
  EXPECT_EQ(ThresholdPercent(uint64_t{5}, 0), 100);
  const uint64_t tib = uint64_t{1} << 40;
  EXPECT_EQ(ThresholdPercent(uint64_t{1} << 30, tib), 1);  // 1 GiB of 1 TiB: 0.098% -> 1
  EXPECT_EQ(ThresholdPercent(2 * tib, tib), 200);          // more than the disk
}

TEST_F(ScrubTest, NoRemovalWhenThereIsRoom) {
  BuildStandardTree(/*filler=*/14);  // 89% used, 11% free > 10
  FakeMachine env(root_, kCapacity);
  Status st = EnsureFreeSpace(&env, root_, std::nullopt, {.evict_cache = true});
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(env.calls, 1);
  EXPECT_EQ(env.paths, std::set<std::string>{root_.string()});
  EXPECT_EQ(Remaining(), (Names{"t1", "t2", "a", "d", "b", "c", "e", "f"}));
}

TEST_F(ScrubTest, CacheEntriesInUseAreNeverEvicted) {
  BuildStandardTree(/*filler=*/25);
  // A job holds the older entry f (shared lock, as LocalizeAll leaves it).
  int fd = open((root_ / "cache/z/f.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_SH), 0);
  FakeMachine env(root_, kCapacity);
  Status st = EnsureFreeSpace(&env, root_, 55 * kUnit, {.evict_cache = true});
  EXPECT_TRUE(IsFailedStatus(st)) << st.message();
  EXPECT_EQ(Remaining(), (Names{"t2", "d", "f"}));
  EXPECT_TRUE(fs::exists(root_ / "cache/z/f/.localized"));
  // Released: now it goes.
  close(fd);
  st = EnsureFreeSpace(&env, root_, 55 * kUnit, {.evict_cache = true});
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Remaining(), (Names{"t2", "d"}));
}

TEST_F(ScrubTest, ReadOnlyCacheEntryIsEvictedByItsNonRootOwner) {
  // The worker as a non-root user (nobody, when this runs as root): the
  // entry it filled is read-only (0555/0444), and it can still evict it.
  constexpr uid_t kNobody = 65534;
  WriteFile(tmp_ / "src/blob", std::string(20 * kUnit, 'b'));
  for (auto it = fs::recursive_directory_iterator(tmp_); it != fs::recursive_directory_iterator();
       ++it)
    ASSERT_EQ(lchown(it->path().c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(chown(tmp_.c_str(), kNobody, kNobody), 0);
  std::string url = "file://" + (tmp_ / "src/blob").string();
  fs::path entry = localize::CacheEntryDir(root_ / "cache", url);
  pid_t pid = fork();
  if (pid == 0) {
    if (geteuid() == 0 &&
        (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0))
      _exit(100);
    std::vector<localize::FetchResult> results;
    if (!localize::LocalizeAll({{url, tmp_ / "job/blob", true}}, root_ / "cache", {}, &results)
             .ok())
      _exit(1);
    struct stat st;
    if (stat(entry.c_str(), &st) != 0 || (st.st_mode & 0777) != 0555) _exit(2);
    FakeMachine env(root_, kCapacity);
    if (!EnsureFreeSpace(&env, root_, 85 * kUnit, {.evict_cache = true}).ok()) _exit(3);
    _exit(fs::exists(entry) ? 4 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(entry));
}

TEST_F(ScrubTest, AFinishedJobDirWithoutAccessIsRemovedByItsNonRootOwner) {
  // The worker as nobody. Another job took all access away from a finished
  // job dir, deep inside it too; a running job did the same to its own dir:
  // the first goes, the second stays, as the job left it.
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(chown(tmp_.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(chown(root_.c_str(), kNobody, kNobody), 0);
  fs::path done = root_ / "jobs/2024/01/01/00/00/a";
  fs::path running = root_ / "jobs/2024/01/01/00/05/r";
  // Free space: 5% while `done` is there, 50% once it is gone.
  class Disk : public Machine {
   public:
    explicit Disk(fs::path watched) : watched_(std::move(watched)) {}
    WallClock::time_point Now() override { return WallClock::time_point(std::chrono::hours(1)); }
    Status GetDiskSpace(const std::string&, DiskSpace* out) override {
      out->capacity_bytes = kCapacity;
      out->free_bytes = fs::exists(watched_) ? 5 * kUnit : 50 * kUnit;
      return Status::OK();
    }

   private:
    fs::path watched_;
  };
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(100);
    MakeDir(done, kSuccessful, 45, "0\n");
    MakeDir(running, kRunning, 0);
    fs::create_directories(done / "deep/deeper");
    WriteFile(done / "deep/deeper/f", "f");
    if (chmod((done / "deep/deeper/f").c_str(), 0) != 0 ||
        chmod((done / "deep/deeper").c_str(), 0) != 0 || chmod((done / "deep").c_str(), 0) != 0 ||
        chmod(done.c_str(), 0) != 0 || chmod(running.c_str(), 0) != 0)
      _exit(1);
    Disk disk(done);
    if (Status st = EnsureFreeSpace(&disk, root_, std::nullopt, {}); !st.ok()) {
      fprintf(stderr, "%s\n", st.message().c_str());
      _exit(2);
    }
    if (fs::exists(done)) _exit(3);
    struct stat st;
    if (lstat(running.c_str(), &st) != 0 || (st.st_mode & 0777) != 0) _exit(4);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  chmod(running.c_str(), 0700);
}

TEST_F(ScrubTest, ExactlyThresholdIsNotEnough) {
  BuildStandardTree(/*filler=*/15);  // 10% free: not more than 10
  FakeMachine env(root_, kCapacity);
  Status st = EnsureFreeSpace(&env, root_, std::nullopt, {});
  ASSERT_TRUE(st.ok()) << st.message();
  // t1 brings 20% free: enough, nothing else goes.
  EXPECT_EQ(Remaining(), (Names{"t2", "a", "d", "b", "c", "e", "f"}));
  EXPECT_EQ(env.calls, 2);
}

struct OrderCase {
  std::optional<int> need_percent;  // disk_usage as a percent of capacity
  bool evict_cache;
  bool ok;
  Names remaining;
};

TEST_F(ScrubTest, PassOrderAndStopsAsSoonAsThereIsRoom) {
  const OrderCase cases[] = {
      // Tasks first.
      {5, false, true, {"t2", "a", "d", "b", "c", "e", "f"}},
      // 10% by default; t1 gives exactly 10%, so the oldest successful job goes too.
      {std::nullopt, false, true, {"t2", "d", "b", "c", "e", "f"}},
      // Successful jobs oldest first, before the older failed one.
      {25, false, true, {"t2", "d", "b", "e", "f"}},
      // Then finished jobs of any exit code.
      {35, false, true, {"t2", "d", "e", "f"}},
      // Cache only with evict_cache; and what cannot be met removes nothing.
      {45, false, false, {"t1", "t2", "a", "d", "b", "c", "e", "f"}},
      // Oldest .localized first, whatever the path order.
      {45, true, true, {"t2", "d", "e"}},
      {55, true, true, {"t2", "d"}},
      {65, true, false, {"t1", "t2", "a", "d", "b", "c", "e", "f"}},
  };
  int n = 0;
  for (const OrderCase& c : cases) {
    SCOPED_TRACE(testing::Message() << "case " << n << " need " << c.need_percent.value_or(-1)
                                    << " evict " << c.evict_cache);
    root_ = tmp_ / ("work" + std::to_string(n++));
    BuildStandardTree(/*filler=*/25);  // 0% free
    FakeMachine env(root_, kCapacity);
    std::optional<uint64_t> need;
    if (c.need_percent) need = static_cast<uint64_t>(*c.need_percent) * kUnit;
    Status st = EnsureFreeSpace(&env, root_, need, {.evict_cache = c.evict_cache});
    EXPECT_EQ(st.ok(), c.ok) << st.message();
    if (!c.ok) {
      EXPECT_TRUE(IsFailedStatus(st)) << st.message();
    }
    Names remaining = Remaining();
    EXPECT_EQ(remaining, c.remaining);
    // Measured once up front and once after every removal.
    EXPECT_EQ(env.calls, 1 + 8 - static_cast<int>(remaining.size()));
    EXPECT_TRUE(fs::is_directory(root_ / "jobs"));
  }
}

TEST_F(ScrubTest, RemovesEmptyParentsOfRemovedJobs) {
  BuildStandardTree(/*filler=*/25);
  FakeMachine env(root_, kCapacity);
  ASSERT_TRUE(EnsureFreeSpace(&env, root_, 35 * kUnit, {}).ok());  // removes t1, a, c, b
  EXPECT_FALSE(fs::exists(root_ / "jobs/2024/01/01/00/00"));
  EXPECT_FALSE(fs::exists(root_ / "jobs/2024/01/02"));
  EXPECT_FALSE(fs::exists(root_ / "jobs/2024/01/03"));
  EXPECT_TRUE(fs::exists(root_ / "jobs/2024/01/01/00/05/d"));
  EXPECT_TRUE(fs::exists(root_ / "tasks"));

  // With the last job gone, everything below jobs/ goes, but not jobs/.
  fs::remove(root_ / "jobs/2024/01/01/00/05/d/.running");
  WriteFile(root_ / "jobs/2024/01/01/00/05/d/.done", "t");
  ASSERT_TRUE(EnsureFreeSpace(&env, root_, 45 * kUnit, {}).ok());
  EXPECT_TRUE(fs::is_directory(root_ / "jobs"));
  EXPECT_TRUE(fs::is_empty(root_ / "jobs"));
}

TEST_F(ScrubTest, RunningDirsAreNeverRemoved) {
  // 25 GiB, of which 24 GiB are used by something else: 4% free.
  const uint64_t gib = uint64_t{1} << 30;
  MakeDir(root_ / "tasks/t", {".running"}, 0);
  MakeDir(root_ / "jobs/2024/01/01/00/00/r",
          {".running", "_context.json", "_job.json", "_exit_code"}, 0, "0");
  MakeDir(root_ / "jobs/2024/01/01/00/01/s", {"_context.json", "_job.json"}, 0);
  FakeMachine env(root_, 25 * gib, 24 * gib);
  Status st = EnsureFreeSpace(&env, root_, std::nullopt, {.evict_cache = true});
  EXPECT_TRUE(IsFailedStatus(st)) << st.message();
  EXPECT_EQ(st.message(), "not enough free disk space under " + root_.string() +
                              ": 4% free (1.0 GiB of 25.0 GiB), a job needs more than 10% "
                              "(2.5 GiB); removing all 0 finished dirs (0 bytes) would not be "
                              "enough, so none was removed");
  EXPECT_TRUE(fs::exists(root_ / "tasks/t/.running"));
  EXPECT_TRUE(fs::exists(root_ / "jobs/2024/01/01/00/00/r/_exit_code"));
  EXPECT_TRUE(fs::exists(root_ / "jobs/2024/01/01/00/01/s/_job.json"));
  EXPECT_EQ(env.calls, 1);
}

// A need that removing every finished dir could not meet removes none of
// them (a job asking for 999TB must not empty the node's finished work).
TEST_F(ScrubTest, AnUnmeetableNeedRemovesNothingAndGivesBothFigures) {
  BuildStandardTree(/*filler=*/25);
  FakeMachine env(root_, kCapacity);
  Names before = Remaining();
  Status st = EnsureFreeSpace(&env, root_, 45 * kUnit, {});
  EXPECT_TRUE(IsFailedStatus(st));
  EXPECT_EQ(st.message(), "not enough free disk space under " + root_.string() +
                              ": 0% free (0 B of 97.7 KiB), a job needs more than 45% "
                              "(43.9 KiB); removing all 4 finished dirs (40016 bytes) would "
                              "not be enough, so none was removed");
  EXPECT_EQ(Remaining(), before);
  st = EnsureFreeSpace(&env, root_, uint64_t{999} << 40, {.evict_cache = true});
  EXPECT_TRUE(IsFailedStatus(st));
  EXPECT_EQ(Remaining(), before);
}

TEST_F(ScrubTest, JobWithoutExitCodeIsNotSuccessful) {
  const fs::path n = root_ / "jobs/2024/01/01/00/00/n";  // older, no _exit_code
  const fs::path g = root_ / "jobs/2024/01/01/00/01/g";  // "zero": not 0
  const fs::path o = root_ / "jobs/2024/01/01/00/02/o";  // " 0 \n": 0 once trimmed
  const fs::path k = root_ / "jobs/2024/01/01/00/03/k";  // no _job.json
  MakeDir(n, {".done", "_context.json", "_job.json"}, 10);
  MakeDir(g, kSuccessful, 10, "zero");
  MakeDir(o, kSuccessful, 10, " 0 \n");
  MakeDir(k, {".done", "_context.json", "_exit_code"}, 10, "0");
  MakeDir(root_ / "other", {}, 60);
  FakeMachine env(root_, kCapacity);

  // Needs one job: only o qualifies for pass 2, though it is the newest but one.
  ASSERT_TRUE(EnsureFreeSpace(&env, root_, 5 * kUnit, {}).ok());
  EXPECT_TRUE(fs::exists(n));
  EXPECT_TRUE(fs::exists(g));
  EXPECT_FALSE(fs::exists(o));
  EXPECT_TRUE(fs::exists(k));

  // Needs one more: pass 2 finds nothing, pass 3 takes the oldest, n.
  ASSERT_TRUE(EnsureFreeSpace(&env, root_, 15 * kUnit, {}).ok());
  EXPECT_FALSE(fs::exists(n));
  EXPECT_TRUE(fs::exists(g));
  EXPECT_TRUE(fs::exists(k));
}

TEST_F(ScrubTest, NeverFollowsSymlinks) {
  const fs::path out = tmp_ / "outside";
  // Finished work outside the root, reachable only through symlinks.
  MakeDir(out / "job", kSuccessful, 10, "0");
  MakeDir(out / "tree/01/01/00/00/j2", kSuccessful, 10, "0");
  MakeDir(out / "task", {".done"}, 10);
  MakeDir(out / "cacheentry", {".localized"}, 10, "2000-01-01T00:00:00Z");
  MakeDir(out / "precious", {"keep.txt"}, 0);
  WriteFile(out / "file.txt", "keep");
  fs::create_directories(root_ / "jobs/2024/01/01/00/00");
  fs::create_directory_symlink(out / "job", root_ / "jobs/2024/01/01/00/00/link");
  fs::create_directory_symlink(out / "tree", root_ / "jobs/2025");
  fs::create_directories(root_ / "tasks");
  fs::create_directory_symlink(out / "task", root_ / "tasks/link");
  fs::create_directories(root_ / "cache");
  fs::create_directory_symlink(out / "cacheentry", root_ / "cache/link");
  // A real finished job holding symlinks to things outside.
  const fs::path real = root_ / "jobs/2024/01/01/00/01/real";
  MakeDir(real, kSuccessful, 10, "0");
  fs::create_directory_symlink(out / "precious", real / "inner");
  fs::create_symlink(out / "file.txt", real / "innerfile");
  MakeDir(root_ / "other", {}, 90);

  FakeMachine env(root_, kCapacity);
  // More than the real job could free: nothing goes, and what is behind the
  // links is not counted as reclaimable.
  Status st = EnsureFreeSpace(&env, root_, 65 * kUnit, {.evict_cache = true});
  EXPECT_TRUE(IsFailedStatus(st)) << st.message();
  EXPECT_TRUE(fs::exists(fs::symlink_status(real)));
  EXPECT_NE(st.message().find("removing all 1 finished dirs"), std::string::npos) << st.message();
  // What the real job frees is enough: it goes, and only it.
  st = EnsureFreeSpace(&env, root_, 5 * kUnit, {.evict_cache = true});
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(fs::exists(fs::symlink_status(real)));
  EXPECT_EQ(env.calls, 3);  // twice up front, once after the one removal
  for (const char* link : {"jobs/2024/01/01/00/00/link", "jobs/2025", "tasks/link", "cache/link"}) {
    EXPECT_TRUE(fs::is_symlink(root_ / link)) << link;
  }
  for (const char* f :
       {"job/.done", "job/_exit_code", "job/blob", "tree/01/01/00/00/j2/.done",
        "tree/01/01/00/00/j2/blob", "task/.done", "task/blob", "cacheentry/.localized",
        "cacheentry/blob", "precious/keep.txt", "file.txt"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
}

TEST_F(ScrubTest, SymlinkedTopLevelDirsAreNotEntered) {
  const fs::path out = tmp_ / "outside";
  MakeDir(out / "tasks/t", {".done"}, 10);
  MakeDir(out / "jobs/2024/01/01/00/00/j", kSuccessful, 10, "0");
  MakeDir(out / "cache/c", {".localized"}, 10, "2000");
  for (const char* top : {"tasks", "jobs", "cache"}) {
    fs::create_directory_symlink(out / top, root_ / top);
  }
  MakeDir(root_ / "other", {}, 95);
  FakeMachine env(root_, kCapacity);
  Status st = EnsureFreeSpace(&env, root_, std::nullopt, {.evict_cache = true});
  EXPECT_TRUE(IsFailedStatus(st)) << st.message();
  EXPECT_TRUE(fs::exists(out / "tasks/t/.done"));
  EXPECT_TRUE(fs::exists(out / "jobs/2024/01/01/00/00/j/.done"));
  EXPECT_TRUE(fs::exists(out / "cache/c/.localized"));
  EXPECT_EQ(env.calls, 1);
}

TEST_F(ScrubTest, CacheEvictionOldestFirstTiesByPath) {
  MakeDir(root_ / "cache/p", {".localized"}, 10, "2024-03-01T00:00:00.000000Z");
  MakeDir(root_ / "cache/r/x", {".localized"}, 10, "2024-01-01T00:00:00.000000Z");
  MakeDir(root_ / "cache/q", {".localized"}, 10, "2024-01-01T00:00:00.000000Z\n");
  // Found first, so what lies under it is not a separate entry.
  MakeDir(root_ / "cache/s", {".localized"}, 5, "2024-02-01T00:00:00.000000Z");
  MakeDir(root_ / "cache/s/inner", {".localized"}, 5, "2023-01-01T00:00:00.000000Z");
  MakeDir(root_ / "other", {}, 60);
  FakeMachine env(root_, kCapacity);

  EXPECT_TRUE(IsFailedStatus(EnsureFreeSpace(&env, root_, 5 * kUnit, {})));  // no eviction
  EXPECT_TRUE(fs::exists(root_ / "cache/q"));
  EXPECT_EQ(env.calls, 1);

  ASSERT_TRUE(EnsureFreeSpace(&env, root_, 5 * kUnit, {.evict_cache = true}).ok());
  EXPECT_FALSE(fs::exists(root_ / "cache/q"));
  EXPECT_TRUE(fs::exists(root_ / "cache/r/x"));
  EXPECT_TRUE(fs::exists(root_ / "cache/s/inner"));

  ASSERT_TRUE(EnsureFreeSpace(&env, root_, 15 * kUnit, {.evict_cache = true}).ok());
  EXPECT_FALSE(fs::exists(root_ / "cache/r/x"));
  EXPECT_TRUE(fs::exists(root_ / "cache/r"));  // cache parents are left alone
  EXPECT_TRUE(fs::exists(root_ / "cache/s/inner"));
  EXPECT_TRUE(fs::exists(root_ / "cache/p"));

  ASSERT_TRUE(EnsureFreeSpace(&env, root_, 25 * kUnit, {.evict_cache = true}).ok());
  EXPECT_FALSE(fs::exists(root_ / "cache/s"));  // 2024-02 before 2024-03, inner and all
  EXPECT_TRUE(fs::exists(root_ / "cache/p"));
}

TEST_F(ScrubTest, MissingDirsAreFine) {
  MakeDir(root_ / "other", {}, 95);
  FakeMachine env(root_, kCapacity);
  Status st = EnsureFreeSpace(&env, root_, std::nullopt, {.evict_cache = true});
  EXPECT_TRUE(IsFailedStatus(st)) << st.message();
  EXPECT_NE(st.message().find("5% free"), std::string::npos) << st.message();
}

TEST_F(ScrubTest, DiskSpaceErrorIsReported) {
  FakeMachine env(root_, kCapacity);
  env.fail = true;
  Status st = EnsureFreeSpace(&env, root_, std::nullopt, {});
  EXPECT_TRUE(st.IsIOError()) << st.message();
  EXPECT_NE(st.message().find(root_.string()), std::string::npos) << st.message();
}

}  // namespace
}  // namespace verdi
