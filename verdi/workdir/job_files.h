// Files in a job dir after the job's command has run: the job may have
// replaced any of them (or a directory on the way) with a symlink, a FIFO or
// something huge. Every access here resolves the name beneath the job dir
// without following a single symlink (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS), never blocks on a FIFO, touches regular files only,
// and reads at most a given size.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace verdi {

/// The default bound on a job file verdi reads back (`_context.json`,
/// `_job.json`, a product's documents).
inline constexpr size_t kJobFileLimit = 64 << 20;

/// Reads `relative` (e.g. "_context.json", "prod/prod.met.json") below the
/// job dir `dir`. Invalid, naming the file, when it is a link, not a
/// regular file, or larger than `limit`; IOError when it cannot be read.
Status ReadJobFile(const std::filesystem::path& dir, const std::string& relative, size_t limit,
                   std::string* content);

/// Appends `text` to `relative` below `dir` (created when missing), with the
/// same checks: a link or a FIFO the job left there is refused, never
/// written through.
Status AppendJobFile(const std::filesystem::path& dir, const std::string& relative,
                     const std::string& text);

}  // namespace verdi
