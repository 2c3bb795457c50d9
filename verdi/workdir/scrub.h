// The free-space check that runs before each job directory is created, and
// the scrubber that makes room by removing finished work, in HySDS's order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/machine.h"
#include "base/status.h"

namespace verdi {

/// ceil(100 * free / capacity), as HySDS computes it.
int PercentFree(const DiskSpace& space);

/// The percent of the file system that must be free before a job starts:
/// 10 without a disk_usage, else ceil(100 * disk_usage / capacity).
int ThresholdPercent(std::optional<uint64_t> disk_usage_bytes, uint64_t capacity_bytes);

/// A finished job directory whose command succeeded: `.done`,
/// `_context.json`, `_job.json` and an `_exit_code` that reads 0.
bool IsSuccessfulJob(const std::filesystem::path& dir);

/// An input-cache entry: a directory holding `.localized`.
struct CacheEntry {
  std::string timestamp;  // trimmed content of .localized; "" when unreadable
  std::filesystem::path dir;
};

/// Every real directory under `cache` holding a `.localized` (not descending
/// further into one), oldest timestamp first, then by path.
std::vector<CacheEntry> CacheEntriesOldestFirst(const std::filesystem::path& cache);

struct ScrubOptions {
  /// Also evict input-cache entries (HySDS's EVICT_CACHE), oldest first.
  bool evict_cache = false;
};

/// Makes sure more than the threshold percent of the file system holding
/// `root` is free. When it is not, removes, re-measuring after each removal
/// and stopping as soon as there is room:
///   1. directories under <root>/tasks that hold `.done`;
///   2. job directories under <root>/jobs, oldest first, that hold `.done`,
///      `_context.json`, `_job.json` and an `_exit_code` that reads 0;
///   3. job directories that hold `.done`, oldest first, any exit code;
///   4. with `evict_cache`, cache entries (directories holding `.localized`
///      under <root>/cache), oldest `.localized` timestamp first.
/// Never removes a directory without `.done` (a running job), and never
/// follows a symlink: a symlinked directory is neither entered nor removed
/// through. Returns Failed, with the free and needed figures, when there is
/// still not enough room after all that.
Status EnsureFreeSpace(Machine* machine, const std::filesystem::path& root,
                       std::optional<uint64_t> disk_usage_bytes, const ScrubOptions& options);

}  // namespace verdi
