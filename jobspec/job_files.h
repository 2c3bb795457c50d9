// The files a job left in its work dir, read and written as untrusted input:
// every path is opened relative to the job dir without following a symlink
// anywhere on the way (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or
// O_NOFOLLOW one component at a time where openat2 is missing), never
// blocking on a FIFO, regular files only, size-limited. Used by the pipeline
// (what it reads back or appends after the command), the close-out of an
// abandoned job, and publishing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"
#include "jobspec/json_field.h"

namespace verdi {

/// The bound on a JSON file of a job verdi reads (`_context.json`, a
/// product's documents).
inline constexpr size_t kMaxJobJsonBytes = 16 << 20;

/// An open file descriptor, closed when destroyed.
class FileHandle {
 public:
  FileHandle() = default;
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(FileHandle&& other) noexcept;
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// A job's work dir, opened once. Paths below it are given relative to it
/// (or absolute, inside its canonical path) and reached without following
/// any symlink: a symlink anywhere on the way fails with a message naming
/// the path.
class JobDir {
 public:
  /// Opens `dir`. The path up to it is the worker's (followed as it is);
  /// `dir` itself must be a directory, not a link to one; what is below it
  /// is the job's.
  static Status Open(const std::filesystem::path& dir, JobDir* out);

  /// The canonical path of the job dir when it was opened.
  const std::filesystem::path& root() const { return root_; }
  /// Its descriptor (the job's files are resolved below it).
  int fd() const { return fd_.get(); }

  /// True when `path` is still this very directory (the job may have moved
  /// it away, removed it, or put something else at its path).
  bool IsAt(const std::filesystem::path& path) const;
  /// Where the directory is now, wherever the job moved it; empty when it
  /// was removed.
  std::filesystem::path CurrentPath() const;

  /// `path` relative to root(): a relative path is taken as is, an absolute
  /// one must be inside root(). A path with `..` is Invalid.
  Status Relative(const std::filesystem::path& path, std::filesystem::path* rel) const;

  /// Opens `path` with `flags` (O_CLOEXEC, O_NOCTTY and O_NOFOLLOW are
  /// added). NotFound when it does not exist; Failed for a symlink on the way
  /// or at the end.
  Status OpenBeneath(const std::filesystem::path& path, int flags, FileHandle* out) const;

  /// Opens the regular file `path` for reading (O_NONBLOCK: a FIFO never
  /// blocks); anything else (a FIFO, a socket, a device, a directory) is
  /// Failed. `size` (may be null) gets its size.
  Status OpenRegular(const std::filesystem::path& path, FileHandle* out, uint64_t* size) const;

  /// The content of the regular file `path`, at most `limit` bytes (more is
  /// Failed).
  Status ReadFile(const std::filesystem::path& path, size_t limit, std::string* out) const;

  /// ReadFile, then ParseJsonText (jobspec/json_field.h: depth-bounded,
  /// never throws).
  Status ReadJson(const std::filesystem::path& path, Json* out,
                  size_t limit = kMaxJobJsonBytes) const;

  /// Replaces `path` with a new regular file holding `content`: written to a
  /// temporary name created exclusively in the same directory, then renamed
  /// over whatever was there (a symlink is replaced, never followed).
  Status WriteFile(const std::filesystem::path& path, std::string_view content) const;

  /// Appends `text` to the regular file `path` (created when missing); a
  /// link or a FIFO the job left there is refused, never written through.
  Status AppendFile(const std::filesystem::path& path, std::string_view text) const;

  /// Removes the file (not a directory) `path`; a missing one is no error.
  Status RemoveFile(const std::filesystem::path& path) const;

 private:
  // The absolute path, for messages.
  std::string Show(const std::filesystem::path& rel) const { return (root_ / rel).string(); }
  Status OpenParent(const std::filesystem::path& rel, FileHandle* dir, std::string* name) const;

  std::filesystem::path root_;
  FileHandle fd_;
};

namespace internal {
/// Tests: open as if openat2 were missing (one component at a time).
void ForceComponentWalk(bool on);
}  // namespace internal

}  // namespace verdi
