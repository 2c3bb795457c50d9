// The work root as a whole: its size kept under a bound by removing finished
// work oldest first (--max-work-dir-size, on top of the free-space rule of
// scrub.h), and its removal when an ephemeral worker exits
// (--delete-work-dir-on-exit).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "base/status.h"
#include "verdi/workdir/reclaim.h"

namespace verdi {

struct WorkRootBound {
  uint64_t max_bytes = 0;
  /// --keep-failed-work-dirs: every successful job dir goes before the
  /// first failed one. Otherwise finished jobs go oldest first, whatever
  /// their outcome.
  bool keep_failed = false;
  /// --evict-cache: input-cache entries may go too, oldest first, after the
  /// job dirs.
  bool evict_cache = false;
  /// Directories that must stay for now (a job dir being archived); may be
  /// empty.
  std::function<bool(const std::filesystem::path&)> in_use;
};

/// Brings TreeSize(root) to at most bound.max_bytes by reclaiming finished
/// work (reclaim.h), job dirs by the time of their `.done`, in the order
/// bound.keep_failed says, stopping as soon as it fits. Returns Failed, with
/// the figures, when the root is still too large, and removes nothing when
/// even removing everything finished would not be enough.
Status BoundWorkRoot(const std::filesystem::path& root, const WorkRootBound& bound);

/// For an ephemeral worker at exit: removes `jobs/`, `tasks/`, `cache/` and
/// `workers/` under `root`, then `root` itself when that leaves it empty.
/// When a job dir there is still open (`.running` without `.done`: another
/// worker's job), nothing is removed and Failed says which.
Status DeleteWorkRoot(const std::filesystem::path& root);

}  // namespace verdi
