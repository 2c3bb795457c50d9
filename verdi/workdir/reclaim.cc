#include "verdi/workdir/reclaim.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "base/dir_tree.h"
#include "base/log.h"
#include "localize/cache.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// True when `path` exists as anything (a dangling symlink counts).
bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

// Job dirs ordered by when they were closed out (the time of `.done`).
std::vector<fs::path> ByCloseTime(std::vector<fs::path> dirs) {
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

// One directory that may go, and how many of its parents may go with it.
struct Candidate {
  fs::path dir;
  std::string why;
  int prune_parents = 0;
  bool cache_entry = false;
};

// Every candidate in the order, before anything is removed.
std::vector<Candidate> Candidates(const fs::path& root, const ReclaimOrder& order) {
  auto removable = [&](const fs::path& dir) {
    OwnerLook look(dir);  // a job may have taken the access away
    if (!Exists(dir / ".done") || (order.in_use && order.in_use(dir))) return false;
    // Finished: what a job took from its owner is given back, so that it is
    // measured and removed whole.
    look.Keep();
    if (Status st = RestoreOwnerAccess(dir); !st.ok())
      LogWarning("{}: {}", order.who, st.message());
    return true;
  };
  std::vector<Candidate> out;
  for (const fs::path& dir : SortedRealSubdirs(root / "tasks"))
    if (removable(dir)) out.push_back({dir, "finished task", 0});
  std::vector<fs::path> jobs = JobDirsOldestFirst(root / "jobs");
  if (order.by_close_time) jobs = ByCloseTime(std::move(jobs));
  std::vector<Candidate> failed;
  for (const fs::path& dir : jobs) {
    if (!removable(dir)) continue;
    bool ok = IsSuccessfulJob(dir);
    Candidate c{dir, ok ? "successful job" : "failed job", 5};
    (order.successful_first && !ok ? failed : out).push_back(std::move(c));
  }
  for (auto& c : failed) out.push_back(std::move(c));
  if (order.evict_cache)
    for (const CacheEntry& entry : CacheEntriesOldestFirst(root / "cache"))
      out.push_back({entry.dir, "cache entry localized " + entry.timestamp, 0, true});
  return out;
}

// Removes the real directory `dir` (remove_all never follows a symlink
// inside it), then up to `prune_parents` of its parents that are now empty.
bool RemoveDir(const Candidate& c, const std::string& who) {
  if (!IsRealDirectory(c.dir)) return false;  // changed under us: leave it
  // Read-only trees too (a complete cache entry is 0555): made writable first.
  if (Status st = RemoveTree(c.dir); !st.ok()) {
    LogWarning("{}: could not remove {} ({}): {}", who, c.dir.string(), c.why, st.message());
    return false;
  }
  fs::path parent = c.dir.parent_path();
  for (int i = 0; i < c.prune_parents && IsRealDirectory(parent); ++i) {
    std::error_code rec;
    if (!fs::remove(parent, rec) || rec) break;  // not empty (ENOTEMPTY), or gone
    parent = parent.parent_path();
  }
  return true;
}

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

// Unlike HySDS, a missing or unreadable `_exit_code` is not success.
bool IsSuccessfulJob(const fs::path& dir) {
  if (!Exists(dir / ".done") || !Exists(dir / "_context.json") || !Exists(dir / "_job.json"))
    return false;
  std::optional<std::string> text = ReadSmallFile(dir / "_exit_code", 64);
  if (!text) return false;
  std::string_view code = Trim(*text);
  long value = 1;
  auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
  return ec == std::errc() && end == code.data() + code.size() && !code.empty() && value == 0;
}

std::vector<CacheEntry> CacheEntriesOldestFirst(const fs::path& cache) {
  std::vector<CacheEntry> entries;
  std::vector<fs::path> stack = SortedRealSubdirs(cache);
  while (!stack.empty()) {
    fs::path dir = std::move(stack.back());
    stack.pop_back();
    if (Exists(dir / ".localized")) {
      std::optional<std::string> text = ReadSmallFile(dir / ".localized", 4096);
      entries.push_back({text ? std::string(Trim(*text)) : std::string(), std::move(dir)});
      continue;
    }
    for (fs::path& sub : SortedRealSubdirs(dir)) stack.push_back(std::move(sub));
  }
  std::sort(entries.begin(), entries.end(), [](const CacheEntry& a, const CacheEntry& b) {
    if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
    return a.dir.native() < b.dir.native();
  });
  return entries;
}

Status Reclaim(const fs::path& root, const ReclaimOrder& order, ReclaimGoal* goal, int* removed) {
  *removed = 0;
  if (goal->Met()) return Status::OK();
  std::vector<Candidate> candidates = Candidates(root, order);
  std::vector<uint64_t> sizes;
  uint64_t reclaimable = 0;
  for (const Candidate& c : candidates) {
    sizes.push_back(TreeSize(c.dir));
    reclaimable += sizes.back();
  }
  if (order.all_or_nothing && !goal->Reachable(reclaimable))
    return Status::Failed(fmt::format(
        "{}; removing all {} finished dirs ({} bytes) would not be enough, so none was removed",
        goal->Figures(), candidates.size(), reclaimable));
  LogInfo("{}: {} under {}: removing finished work", order.who, goal->Figures(), root.string());
  for (size_t i = 0; i < candidates.size() && !goal->Met(); ++i) {
    const Candidate& c = candidates[i];
    std::optional<localize::CacheEntryLock> lock;
    if (c.cache_entry) {
      // Only under the entry's lock: never one that a job fills or uses.
      lock.emplace(c.dir);
      if (!lock->held()) {
        LogInfo("{}: cache entry {} is in use, kept", order.who, c.dir.string());
        continue;
      }
      // No longer complete, first (the entry dir is read-only until then).
      if (Status st = localize::UnmarkCacheEntry(c.dir); !st.ok()) {
        LogWarning("{}: cache entry {}: {}", order.who, c.dir.string(), st.message());
        continue;
      }
    }
    if (!RemoveDir(c, order.who)) continue;
    ++*removed;
    VERDI_RETURN_IF_ERROR(goal->Removed(sizes[i]));
    LogInfo("{}: removed {} ({}, {} bytes); now {}", order.who, c.dir.string(), c.why, sizes[i],
            goal->Figures());
  }
  if (goal->Met()) return Status::OK();
  return Status::Failed(goal->Figures() + "; nothing more could be removed");
}

}  // namespace verdi
