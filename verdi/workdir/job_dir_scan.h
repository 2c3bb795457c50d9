// Reading the work root without being fooled by it: no symlink is followed,
// no FIFO blocks a read. Used by the scrubber and by crash recovery.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace verdi {

namespace fs = std::filesystem;

/// True when `path` is a directory itself, not a symlink to one.
bool IsRealDirectory(const fs::path& path);

/// A look inside a job dir whose job may have taken its owner's access away
/// (`chmod 000 .`, with its processes still running or gone): while this
/// lives, the owner (this user) may search and read the dir; the mode the
/// job left is put back when it goes, unless Keep() was called. A link is
/// never followed; a dir of another user is left as it is.
class OwnerLook {
 public:
  explicit OwnerLook(const fs::path& dir);
  ~OwnerLook();
  OwnerLook(const OwnerLook&) = delete;
  OwnerLook& operator=(const OwnerLook&) = delete;
  /// The dir keeps its owner's access (it is being closed out).
  void Keep() { changed_ = false; }

 private:
  fs::path dir_;
  bool changed_ = false;
  mode_t was_ = 0;
};

/// Up to `limit` bytes of the regular file `path`, opened without following
/// a symlink and without blocking on a FIFO; nullopt when that is not
/// possible.
std::optional<std::string> ReadSmallFile(const fs::path& path, size_t limit);

/// The real subdirectories of `dir` (symlinks skipped), sorted by name.
/// Empty when `dir` is missing, unreadable or not a real directory.
std::vector<fs::path> SortedRealSubdirs(const fs::path& dir);

/// Every <jobs>/YYYY/MM/DD/HH/mm/<id>: exactly six levels down, each level
/// sorted, which for zero-padded time parts is oldest first.
std::vector<fs::path> JobDirsOldestFirst(const fs::path& jobs);

}  // namespace verdi
