#include "verdi/workdir/size_bound.h"

#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "localize/cache.h"
#include "verdi/workdir/job_dir_scan.h"
#include "verdi/workdir/scrub.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

// A finished job or task dir that the caller does not hold.
bool Removable(const fs::path& dir, const WorkRootBound& bound) {
  return Exists(dir / ".done") && !(bound.in_use && bound.in_use(dir));
}

// Ordered by when they were closed out (the time of `.done`): the path only
// orders them by the minute they started in.
std::vector<fs::path> FinishedOldestFirst(std::vector<fs::path> dirs) {
  std::vector<std::pair<struct timespec, size_t>> keys;
  for (size_t i = 0; i < dirs.size(); ++i) {
    struct stat st;
    struct timespec t = {0, 0};
    if (lstat((dirs[i] / ".done").c_str(), &st) == 0) t = st.st_mtim;
    keys.push_back({t, i});
  }
  std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
    return a.first.tv_sec != b.first.tv_sec ? a.first.tv_sec < b.first.tv_sec
                                            : a.first.tv_nsec < b.first.tv_nsec;
  });
  std::vector<fs::path> sorted;
  for (const auto& k : keys) sorted.push_back(std::move(dirs[k.second]));
  return sorted;
}

class Shrinker {
 public:
  Shrinker(fs::path root, uint64_t max) : root_(std::move(root)), max_(max) {
    size_ = TreeSize(root_);
  }

  bool Fits() const { return size_ <= max_; }
  uint64_t size() const { return size_; }

  // Removes `dir` (remove_all never follows a symlink inside it) and up to
  // `prune_parents` parents it leaves empty.
  void Remove(const fs::path& dir, const char* why, int prune_parents) {
    if (!IsRealDirectory(dir)) return;
    uint64_t bytes = TreeSize(dir);
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) {
      LogWarning("work root bound: could not remove {} ({}): {}", dir.string(), why, ec.message());
      size_ = TreeSize(root_);
      return;
    }
    size_ = size_ > bytes ? size_ - bytes : 0;
    fs::path parent = dir.parent_path();
    for (int i = 0; i < prune_parents && IsRealDirectory(parent); ++i) {
      std::error_code rec;
      if (!fs::remove(parent, rec) || rec) break;
      parent = parent.parent_path();
    }
    LogInfo("work root bound: removed {} ({}, {} bytes); the root now holds {} of at most {} bytes",
            dir.string(), why, bytes, size_, max_);
  }

 private:
  fs::path root_;
  uint64_t max_;
  uint64_t size_ = 0;
};

}  // namespace

uint64_t TreeSize(const fs::path& path) {
  std::error_code ec;
  fs::file_status top = fs::symlink_status(path, ec);
  if (ec || !fs::exists(top)) return 0;
  if (!fs::is_directory(top)) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  uint64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> linked;  // files with several links: counted once
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    if (st.st_nlink > 1 && !linked.insert({st.st_dev, st.st_ino}).second) continue;
    total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

Status BoundWorkRoot(const fs::path& root, const WorkRootBound& bound) {
  Shrinker s(root, bound.max_bytes);
  if (s.Fits()) return Status::OK();
  LogInfo("work root bound: {} holds {} bytes, more than {}: removing finished work", root.string(),
          s.size(), bound.max_bytes);
  for (const fs::path& dir : SortedRealSubdirs(root / "tasks")) {
    if (s.Fits()) return Status::OK();
    if (Removable(dir, bound)) s.Remove(dir, "finished task", 0);
  }
  std::vector<fs::path> jobs = FinishedOldestFirst(JobDirsOldestFirst(root / "jobs"));
  // Without keep_failed one pass takes every finished job; with it, the
  // first pass takes only the successful ones.
  for (bool successful_only : {bound.keep_failed, false}) {
    for (const fs::path& dir : jobs) {
      if (s.Fits()) return Status::OK();
      if (!Removable(dir, bound)) continue;
      bool ok = IsSuccessfulJob(dir);
      if (successful_only && !ok) continue;
      s.Remove(dir, ok ? "successful job" : "failed job", 5);
    }
  }
  if (bound.evict_cache) {
    for (const CacheEntry& entry : CacheEntriesOldestFirst(root / "cache")) {
      if (s.Fits()) return Status::OK();
      // As the scrubber: only under the entry's lock, never one a job uses.
      localize::CacheEntryLock lock(entry.dir);
      if (!lock.held()) continue;
      std::error_code ec;
      fs::remove(entry.dir / ".localized", ec);  // no longer complete, first
      s.Remove(entry.dir, "cache entry", 0);
    }
  }
  if (s.Fits()) return Status::OK();
  return Status::Failed(fmt::format(
      "work root {} holds {} bytes, more than --max-work-dir-size {}, and nothing more "
      "could be removed (running jobs{})",
      root.string(), s.size(), bound.max_bytes, bound.evict_cache ? "" : ", the input cache"));
}

Status DeleteWorkRoot(const fs::path& root) {
  if (!IsRealDirectory(root)) return Status::OK();
  for (const fs::path& dir : JobDirsOldestFirst(root / "jobs"))
    if (Exists(dir / ".running") && !Exists(dir / ".done"))
      return Status::Failed("not deleting the work root " + root.string() + ": " + dir.string() +
                            " is still open (another worker's job?)");
  for (const char* sub : {"jobs", "tasks", "cache", "workers"}) {
    std::error_code ec;
    fs::path dir = root / sub;
    if (!Exists(dir)) continue;
    fs::remove_all(dir, ec);  // a symlink is removed, never followed
    if (ec) return Status::IOError("removing " + dir.string(), ec.value());
  }
  std::error_code ec;
  fs::remove(root, ec);  // only when empty
  if (ec && ec != std::errc::directory_not_empty)
    return Status::IOError("removing " + root.string(), ec.value());
  return Status::OK();
}

}  // namespace verdi
