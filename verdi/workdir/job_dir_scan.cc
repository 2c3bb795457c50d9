#include "verdi/workdir/job_dir_scan.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace verdi {

// True when `path` is a directory itself, not a symlink to one.
bool IsRealDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(path, ec));
}

OwnerLook::OwnerLook(const fs::path& dir) : dir_(dir) {
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & S_IRWXU) == S_IRWXU)
    return;
  was_ = st.st_mode & 07777;
  changed_ = fchmodat(AT_FDCWD, dir.c_str(), was_ | S_IRWXU, AT_SYMLINK_NOFOLLOW) == 0;
}

OwnerLook::~OwnerLook() {
  if (changed_) fchmodat(AT_FDCWD, dir_.c_str(), was_, AT_SYMLINK_NOFOLLOW);
}

// Up to `limit` bytes of the regular file `path`, opened without following a
// symlink and without blocking on a FIFO; nullopt when that is not possible.
std::optional<std::string> ReadSmallFile(const fs::path& path, size_t limit) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  while (ok && text.size() < limit) {
    char buf[512];
    ssize_t n = read(fd, buf, std::min(sizeof buf, limit - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (!ok) return std::nullopt;
  return text;
}

// The real subdirectories of `dir` (symlinks skipped), sorted by name.
// Empty when `dir` is missing, unreadable or not a real directory.
std::vector<fs::path> SortedRealSubdirs(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!IsRealDirectory(dir)) return out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code sec;
    if (fs::is_directory(it->symlink_status(sec)) && !sec) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename().native() < b.filename().native();
  });
  return out;
}

// <jobs>/YYYY/MM/DD/HH/mm/<id>: exactly six levels down, each level sorted,
// which for zero-padded time parts is oldest first.
std::vector<fs::path> JobDirsOldestFirst(const fs::path& jobs) {
  std::vector<fs::path> level = {jobs};
  for (int depth = 0; depth < 6; ++depth) {
    std::vector<fs::path> next;
    for (const fs::path& dir : level) {
      for (fs::path& sub : SortedRealSubdirs(dir)) next.push_back(std::move(sub));
    }
    level = std::move(next);
  }
  return level;
}

}  // namespace verdi
