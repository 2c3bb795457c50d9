// Small file helpers with errors in the project's style.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "base/status.h"

namespace verdi {

/// Writes `content` to `path` through a temporary file in the same directory
/// and a rename, so a reader sees the old file or the new one, never half.
Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode = 0644);

/// Creates `path`, which must not exist yet, with `mode` and `content`
/// written once: for a file in a directory this process has just made, that
/// nobody reads before it is complete and whose half-written state after a
/// crash nobody reads either. Fewer file-system operations than
/// WriteFileAtomic (no temporary name, no rename).
Status WriteNewFile(const std::string& path, std::string_view content, mode_t mode = 0644);

/// True when this process's umask would take bits of `mode` away at
/// creation (read once, from /proc/self/status, or as SetUmask set it), so
/// that an fchmod is needed to get `mode` exactly.
bool UmaskStrips(mode_t mode);

/// umask(2), and what UmaskStrips knows of it: the process's umask is only
/// ever changed through this.
void SetUmask(mode_t mask);

/// What std::filesystem::canonical gives (`path` must exist; links
/// followed), asked of the kernel in one lookup: the path opened, then read
/// back from /proc/self/fd. canonical itself reads every component as a
/// link. Falls back to canonical where /proc cannot tell.
std::filesystem::path CanonicalPath(const std::filesystem::path& path, std::error_code& ec);

/// Appends `content` to `path` (created when missing).
Status AppendToFile(const std::string& path, std::string_view content);

/// Reads the whole file.
Status ReadFileToString(const std::string& path, std::string* content);

}  // namespace verdi
