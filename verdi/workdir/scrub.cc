#include "verdi/workdir/scrub.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"
#include "localize/cache.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

using u128 = unsigned __int128;

int ClampToInt(u128 v) { return v > static_cast<u128>(INT_MAX) ? INT_MAX : static_cast<int>(v); }

// ceil(100 * part / whole), whole > 0, without overflow.
int CeilPercent(uint64_t part, uint64_t whole) {
  u128 scaled = static_cast<u128>(part) * 100;
  return ClampToInt((scaled + whole - 1) / whole);
}

// "512 B", "1.0 KiB", "2.5 GiB", ..., up to TiB.
std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

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

}  // namespace

// Pass 2's test: finished, with a context, a job and an exit code of 0.
// Unlike HySDS, a missing or unreadable `_exit_code` is not success.
bool IsSuccessfulJob(const fs::path& dir) {
  if (!Exists(dir / ".done") || !Exists(dir / "_context.json") || !Exists(dir / "_job.json")) {
    return false;
  }
  std::optional<std::string> text = ReadSmallFile(dir / "_exit_code", 64);
  if (!text) return false;
  std::string_view code = Trim(*text);
  long value = 1;
  auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
  return ec == std::errc() && end == code.data() + code.size() && !code.empty() && value == 0;
}

// Every real directory under <cache> holding a `.localized` (not descending
// further into one), oldest timestamp first, then by path.
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

namespace {

class Scrubber {
 public:
  Scrubber(Machine* machine, fs::path root, std::optional<uint64_t> disk_usage)
      : machine_(machine), root_(std::move(root)), disk_usage_(disk_usage) {}

  Status Measure() {
    VERDI_RETURN_IF_ERROR(machine_->GetDiskSpace(root_.string(), &space_)
                              .WithPrefix("measuring free disk space under " + root_.string()));
    percent_free_ = PercentFree(space_);
    threshold_ = ThresholdPercent(disk_usage_, space_.capacity_bytes);
    return Status::OK();
  }

  bool Enough() const { return percent_free_ > threshold_; }

  std::string Figures() const {
    u128 needed =
        static_cast<u128>(space_.capacity_bytes) * static_cast<unsigned>(threshold_) / 100;
    uint64_t needed64 = needed > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(needed);
    return fmt::format("{}% free ({} of {}), a job needs more than {}% ({})", percent_free_,
                       HumanBytes(space_.free_bytes), HumanBytes(space_.capacity_bytes), threshold_,
                       HumanBytes(needed64));
  }

  // Removes the real directory `dir` (remove_all does not follow symlinks
  // inside it), then up to `prune_parents` of its parents that are now empty
  // (a job dir's mm, HH, DD, MM and YYYY), then re-measures.
  Status Remove(const fs::path& dir, std::string_view why, int prune_parents) {
    if (!IsRealDirectory(dir)) return Status::OK();  // changed under us: leave it
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) {
      LogWarning("scrub: could not remove {} ({}): {}", dir.string(), why, ec.message());
    } else {
      ++removed_;
    }
    fs::path parent = dir.parent_path();
    for (int i = 0; i < prune_parents && IsRealDirectory(parent); ++i) {
      std::error_code rec;
      if (!fs::remove(parent, rec) || rec) break;  // not empty (ENOTEMPTY), or gone
      parent = parent.parent_path();
    }
    VERDI_RETURN_IF_ERROR(Measure());
    if (!ec) LogInfo("scrub: removed {} ({}); now {}% free", dir.string(), why, percent_free_);
    return Status::OK();
  }

  const fs::path& root() const { return root_; }
  int removed() const { return removed_; }

 private:
  Machine* machine_;
  fs::path root_;
  std::optional<uint64_t> disk_usage_;
  DiskSpace space_;
  int percent_free_ = 0;
  int threshold_ = 0;
  int removed_ = 0;
};

// Runs the four passes; stops with OK as soon as there is room. Returns OK
// also when everything was tried (the caller checks Enough()).
Status RunPasses(Scrubber& s, const ScrubOptions& options) {
  // 1. Finished task directories.
  for (const fs::path& dir : SortedRealSubdirs(s.root() / "tasks")) {
    if (!Exists(dir / ".done")) continue;
    VERDI_RETURN_IF_ERROR(s.Remove(dir, "finished task", 0));
    if (s.Enough()) return Status::OK();
  }
  // 2. Successful jobs, oldest first; 3. any finished job, oldest first.
  const fs::path jobs = s.root() / "jobs";
  for (bool successful_only : {true, false}) {
    for (const fs::path& dir : JobDirsOldestFirst(jobs)) {
      if (!Exists(dir / ".done")) continue;  // running: never removed
      if (successful_only && !IsSuccessfulJob(dir)) continue;
      VERDI_RETURN_IF_ERROR(s.Remove(dir, successful_only ? "successful job" : "finished job", 5));
      if (s.Enough()) return Status::OK();
    }
  }
  // 4. Input-cache entries, oldest first.
  if (options.evict_cache) {
    for (const CacheEntry& entry : CacheEntriesOldestFirst(s.root() / "cache")) {
      // Only under the entry's lock: never one that a job fills or uses.
      localize::CacheEntryLock lock(entry.dir);
      if (!lock.held()) {
        LogInfo("scrub: cache entry {} is in use, kept", entry.dir.string());
        continue;
      }
      std::error_code ec;
      fs::remove(entry.dir / ".localized", ec);  // no longer complete, first
      VERDI_RETURN_IF_ERROR(s.Remove(entry.dir, "cache entry localized " + entry.timestamp, 0));
      if (s.Enough()) return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace

int PercentFree(const DiskSpace& space) {
  if (space.capacity_bytes == 0) return 0;
  return CeilPercent(space.free_bytes, space.capacity_bytes);
}

int ThresholdPercent(std::optional<uint64_t> disk_usage_bytes, uint64_t capacity_bytes) {
  if (!disk_usage_bytes) return 10;
  if (capacity_bytes == 0) return 100;
  return CeilPercent(*disk_usage_bytes, capacity_bytes);
}

Status EnsureFreeSpace(Machine* machine, const std::filesystem::path& root,
                       std::optional<uint64_t> disk_usage_bytes, const ScrubOptions& options) {
  Scrubber s(machine, root, disk_usage_bytes);
  VERDI_RETURN_IF_ERROR(s.Measure());
  if (s.Enough()) return Status::OK();

  LogInfo("scrub: not enough free disk space under {}: {}; removing finished work", root.string(),
          s.Figures());
  VERDI_RETURN_IF_ERROR(RunPasses(s, options));
  LogInfo("scrub: finished under {} after {} removal(s): {}", root.string(), s.removed(),
          s.Figures());
  if (s.Enough()) return Status::OK();
  return Status::Failed(
      fmt::format("not enough free disk space under {}: {}; nothing more could "
                  "be removed",
                  root.string(), s.Figures()));
}

}  // namespace verdi
