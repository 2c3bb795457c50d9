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
#include "verdi/workdir/reclaim.h"

namespace verdi {

/// ceil(100 * free / capacity), as HySDS computes it.
int PercentFree(const DiskSpace& space);

/// The percent of the file system that must be free before a job starts:
/// 10 without a disk_usage, else ceil(100 * disk_usage / capacity).
int ThresholdPercent(std::optional<uint64_t> disk_usage_bytes, uint64_t capacity_bytes);

struct ScrubOptions {
  /// Also evict input-cache entries (HySDS's EVICT_CACHE), oldest first.
  bool evict_cache = false;
};

/// Makes sure more than the threshold percent of the file system holding
/// `root` is free. When it is not, reclaims finished work (reclaim.h: finished
/// tasks, successful jobs oldest first, any finished job oldest first, then
/// with `evict_cache` the input cache), re-measuring after each removal and
/// stopping as soon as there is room. Returns Failed, with the free and
/// needed figures, when there is still not enough room, and removes nothing
/// when even removing everything finished could not make enough.
Status EnsureFreeSpace(Machine* machine, const std::filesystem::path& root,
                       std::optional<uint64_t> disk_usage_bytes, const ScrubOptions& options);

}  // namespace verdi
