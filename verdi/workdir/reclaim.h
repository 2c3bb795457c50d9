// Reclaiming the work root: removing finished work until a goal is met. One
// pass order and one removal for every caller; the free-space scrubber
// (scrub.h) and the work-root size bound (size_bound.h) differ only in their
// goal and in a few choices of order.
//
// The order: finished task dirs; then finished job dirs, the successful ones
// first when asked; then, when allowed, input-cache entries oldest first,
// each only under its lock. Never a directory without `.done` (a running
// job) or one the caller holds; never through a symlink; the parents a job
// dir leaves empty (its mm, HH, DD, MM, YYYY) go too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace verdi {

/// Apparent bytes of every file under `path` (symlinks counted as links,
/// never followed; a hard-linked file once). 0 when it is missing.
uint64_t TreeSize(const std::filesystem::path& path);

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

/// What a reclaim works towards.
class ReclaimGoal {
 public:
  virtual ~ReclaimGoal() = default;
  virtual bool Met() const = 0;
  /// Whether removing `bytes` more could meet the goal at all: when not,
  /// nothing is removed (work is never deleted for a need it cannot meet).
  virtual bool Reachable(uint64_t bytes) const = 0;
  /// After a removal of `bytes`: measures again. An error stops the reclaim.
  virtual Status Removed(uint64_t bytes) = 0;
  /// Where things stand, for log lines: "12% free", "3000 of at most 5000 bytes".
  virtual std::string Figures() const = 0;
};

struct ReclaimOrder {
  /// The first word of every log line: "scrub", "work root bound".
  std::string who;
  /// Successful job dirs before any failed one.
  bool successful_first = true;
  /// Job dirs by the time of their `.done` rather than by the minute they
  /// started in (their path).
  bool by_close_time = false;
  /// Input-cache entries may go too, after the job dirs.
  bool evict_cache = false;
  /// Remove nothing when removing everything could not meet the goal (the
  /// scrubber: a job's need is met or it fails). Without it, a reclaim gets
  /// as close to the goal as it can (the size bound: every byte counts).
  bool all_or_nothing = true;
  /// Directories that must stay for now (a job dir being archived); may be
  /// empty.
  std::function<bool(const std::filesystem::path&)> in_use;
};

/// Removes finished work under `root` in `order` until `goal` is met (and,
/// with order.all_or_nothing, nothing at all when it cannot be met). `*removed` counts the
/// directories removed. Returns OK when the goal is met, Failed ("<figures>; nothing more could be
/// removed", or why nothing was) when it is not, or the goal's own error.
Status Reclaim(const std::filesystem::path& root, const ReclaimOrder& order, ReclaimGoal* goal,
               int* removed);

}  // namespace verdi
