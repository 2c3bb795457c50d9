#include "verdi/workdir/job_dir.h"

#include <cerrno>
#include <climits>
#include <ctime>
#include <iterator>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/dir_tree.h"
#include "base/files.h"
#include "base/log.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace {

constexpr char kRunning[] = ".running";
constexpr char kDone[] = ".done";

// UTC calendar parts of `now` (whole seconds, rounded down).
struct tm UtcParts(WallClock::time_point now) {
  using namespace std::chrono;
  time_t secs = static_cast<time_t>(floor<seconds>(now).time_since_epoch().count());
  struct tm tm = {};
  gmtime_r(&secs, &tm);
  return tm;
}

// `<dir>.<n>`, its name shortened at the end of the job id when the suffix
// would make it longer than a file name may be (a 255-byte job id can run
// again in the same minute too).
fs::path NthName(const fs::path& dir, int n) {
  std::string suffix = fmt::format(".{}", n);
  std::string name = dir.filename().string();
  if (name.size() + suffix.size() > NAME_MAX) name.resize(NAME_MAX - suffix.size());
  return dir.parent_path() / (name + suffix);
}

}  // namespace

std::string JobDirRelative(WallClock::time_point now, std::string_view job_id) {
  struct tm tm = UtcParts(now);
  return fmt::format("jobs/{:04}/{:02}/{:02}/{:02}/{:02}/{}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, job_id);
}

fs::path JobDirPath(const fs::path& root, WallClock::time_point now, std::string_view job_id) {
  return root / JobDirRelative(now, job_id);
}

Status CreateJobDir(const fs::path& dir, WallClock::time_point now, std::string_view owner,
                    fs::path* created) {
  std::error_code ec;
  // A scrubber removing empty parents (scrub.cc) may race with this; a parent
  // vanishing under create_directories shows as ENOENT, so try again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    ec.clear();
    fs::create_directories(dir.parent_path(), ec);
    if (ec != std::errc::no_such_file_or_directory) break;
  }
  if (ec) return Status::IOError("create job directory " + dir.string(), ec.value());
  // mkdir is the claim: of two executions racing for a name, one gets it.
  constexpr int kMaxNames = 100;
  for (int n = 1; n <= kMaxNames; ++n) {
    fs::path candidate = n == 1 ? dir : NthName(dir, n);
    if (mkdir(candidate.c_str(), 0777) != 0) {
      if (errno == EEXIST) continue;
      return Status::IOError("create job directory " + candidate.string(), errno);
    }
    *created = candidate;
    return WriteFileAtomic((candidate / kRunning).string(),
                           fmt::format("{}\n{}\n", IsoUtc(now), owner));
  }
  return Status::Failed(fmt::format("job directory {}: it and {} other names for it are in use",
                                    dir.string(), kMaxNames - 1));
}

void RestoreOwnerAccessAbove(const fs::path& root, const fs::path& dir) {
  fs::path rel = dir.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") return;
  fs::path at = root;
  auto give_back = [](const fs::path& p) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & S_IRWXU) == S_IRWXU)
      return;
    fchmodat(AT_FDCWD, p.c_str(), (st.st_mode & 07777) | S_IRWXU, AT_SYMLINK_NOFOLLOW);
  };
  give_back(at);
  for (auto part = rel.begin(); part != rel.end() && std::next(part) != rel.end(); ++part)
    give_back(at /= *part);
}

Status MarkJobDone(const fs::path& dir, WallClock::time_point now) {
  const fs::path running = dir / kRunning;
  const fs::path done = dir / kDone;
  // A directory the job made at `.done` refuses the name (the name is
  // verdi's): it is removed, then the rename or write is tried again.
  auto clear_done = [&] {
    if (!IsRealDirectory(done)) return false;
    if (Status st = RemoveTree(done); !st.ok()) LogWarning("{}", st.message());
    return true;
  };
  int err = rename(running.c_str(), done.c_str()) == 0 ? 0 : errno;
  if ((err == EISDIR || err == ENOTEMPTY || err == EEXIST) && clear_done())
    err = rename(running.c_str(), done.c_str()) == 0 ? 0 : errno;
  if (err != 0 && err != ENOENT)
    return Status::IOError("rename " + running.string() + " to " + done.string(), err);
  // ENOENT: `.running` is already gone (HC-581); `.done` is created below.
  // `.done` is read for its name only (the scrubber, harikiri), so the time
  // is written in place, as HySDS does: into the file that was `.running`
  // when it is still verdi's (a regular file with no other link, opened
  // without following a link or blocking on a FIFO), else into a new one.
  std::string stamp = IsoUtc(now) + "\n";
  int fd = open(done.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st;
    bool ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1;
    bool written = ours && ftruncate(fd, 0) == 0 &&
                   pwrite(fd, stamp.data(), stamp.size(), 0) == static_cast<ssize_t>(stamp.size());
    if (close(fd) == 0 && written) return Status::OK();
  }
  Status st = WriteFileAtomic(done.string(), stamp);
  if (!st.ok() && clear_done()) st = WriteFileAtomic(done.string(), stamp);
  return st;
}

uint64_t DirectorySize(const fs::path& dir, const fs::path& within) {
  // Depth-first with an explicit stack. A symlink is followed (du -L) only
  // when its target resolves inside `within`; any other counts as the link
  // itself. Every (device, inode) is counted and entered once only.
  std::error_code ec;
  fs::path bound = CanonicalPath(within, ec);
  if (ec) bound = fs::weakly_canonical(within, ec);
  auto inside = [&](const fs::path& target) {
    auto rel = target.lexically_relative(bound);
    return !rel.empty() && *rel.begin() != "..";
  };
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::string> stack = {dir.string()};
  uint64_t total = 0;
  while (!stack.empty()) {
    std::string path = std::move(stack.back());
    stack.pop_back();
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      std::error_code rec;
      fs::path target = CanonicalPath(path, rec);
      if (!rec && inside(target) && stat(path.c_str(), &st) != 0) continue;
    }
    if (!seen.emplace(st.st_dev, st.st_ino).second) continue;
    if (st.st_size > 0) total += static_cast<uint64_t>(st.st_size);
    if (!S_ISDIR(st.st_mode)) continue;
    DIR* d = opendir(path.c_str());
    if (d == nullptr) continue;
    while (const dirent* entry = readdir(d)) {
      std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      stack.push_back(path + "/" + entry->d_name);
    }
    closedir(d);
  }
  return total;
}

}  // namespace verdi
