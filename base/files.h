// Small file helpers with errors in the project's style.
#pragma once

#include <sys/types.h>
#include <string>
#include <string_view>

#include "base/status.h"

namespace verdi {

/// Writes `content` to `path` through a temporary file in the same directory
/// and a rename, so a reader sees the old file or the new one, never half.
Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode = 0644);

/// Appends `content` to `path` (created when missing).
Status AppendToFile(const std::string& path, std::string_view content);

/// Reads the whole file.
Status ReadFileToString(const std::string& path, std::string* content);

}  // namespace verdi
