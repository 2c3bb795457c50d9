// The work root as a whole: its size kept under a bound by removing finished
// work oldest first (--max-work-dir-size, on top of the free-space rule of
// scrub.h), and its removal when an ephemeral worker exits
// (--delete-work-dir-on-exit).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "base/status.h"

namespace verdi {

/// Apparent bytes of every file under `path` (symlinks counted as links,
/// never followed; a hard-linked file once). 0 when it is missing.
uint64_t TreeSize(const std::filesystem::path& path);

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

/// Brings TreeSize(root) to at most bound.max_bytes by removing, oldest
/// first and stopping as soon as it fits: finished task dirs, then finished
/// job dirs (by the time of their `.done`, in the order bound.keep_failed
/// says), then cache entries (with evict_cache). Never removes a directory without `.done` (a
/// running job), never follows a symlink. Returns Failed, with the figures, when the root is still
/// too large after that.
Status BoundWorkRoot(const std::filesystem::path& root, const WorkRootBound& bound);

/// For an ephemeral worker at exit: removes `jobs/`, `tasks/`, `cache/` and
/// `workers/` under `root`, then `root` itself when that leaves it empty.
/// When a job dir there is still open (`.running` without `.done`: another
/// worker's job), nothing is removed and Failed says which.
Status DeleteWorkRoot(const std::filesystem::path& root);

}  // namespace verdi
