// Reading the work root without being fooled by it: no symlink is followed,
// no FIFO blocks a read. Used by the scrubber and by crash recovery.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace verdi {

namespace fs = std::filesystem;

/// True when `path` is a directory itself, not a symlink to one.
bool IsRealDirectory(const fs::path& path);

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
