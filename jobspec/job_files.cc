#include "jobspec/job_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/files.h"

namespace verdi {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> component_walk{false};  // openat2 is missing (or tests say so)

// The reason a path of the job's could not be opened, as a Status.
Status OpenError(const std::string& shown, int err) {
  switch (err) {
    case ENOENT:
      return Status::NotFound(shown + ": no such file");
    case ELOOP:
      return Status::Failed(shown +
                            ": is or goes through a symlink: refused (files a job leaves are "
                            "never followed through links)");
    case EXDEV:
      return Status::Failed(shown + ": leaves the job dir: refused");
    default:
      return Status::IOError("opening " + shown, err);
  }
}

int Openat2(int dirfd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & O_CREAT) != 0 ? 0644 : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    int fd = static_cast<int>(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
    // EAGAIN: a rename raced with the lookup; look again a few times.
    if (fd >= 0 || (errno != EINTR && (errno != EAGAIN || attempt >= 8))) return fd;
  }
}

// openat2's answer without openat2: each directory on the way opened with
// O_NOFOLLOW (a symlink there fails with ELOOP), the last component too.
int ComponentWalk(int dirfd, const fs::path& rel, int flags) {
  std::vector<std::string> parts;
  for (const fs::path& p : rel)
    if (!p.empty() && p != ".") parts.push_back(p.string());
  mode_t mode = (flags & O_CREAT) != 0 ? 0644 : 0;
  if (parts.empty()) return openat(dirfd, ".", flags, mode);
  FileHandle cur;
  int at = dirfd;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int fd = openat(at, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      // O_DIRECTORY answers ENOTDIR for a symlink: say what openat2 says.
      struct stat st;
      int err = errno;
      if (err == ENOTDIR && fstatat(at, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode))
        err = ELOOP;
      errno = err;
      return -1;
    }
    cur = FileHandle(fd);
    at = cur.get();
  }
  return openat(at, parts.back().c_str(), flags, mode);
}

const char* TypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a regular file";
}

}  // namespace

namespace internal {
void ForceComponentWalk(bool on) { component_walk = on; }
}  // namespace internal

FileHandle::FileHandle(FileHandle&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) close(fd_);
}

Status JobDir::Open(const fs::path& dir, JobDir* out) {
  // The job dir itself must not have been swapped for a link (a job that can
  // rename it could point it anywhere); the path above it is the worker's.
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return Status::IOError("the job dir " + dir.string(), errno);
  if (!S_ISDIR(st.st_mode))
    return Status::Failed(fmt::format("the job dir {} is {}, not a directory: refused",
                                      dir.string(), TypeName(st.st_mode)));
  std::error_code ec;
  fs::path root = CanonicalPath(dir, ec);
  if (ec) return Status::IOError("resolving the job dir " + dir.string(), ec.value());
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("opening the job dir " + root.string(), errno);
  out->root_ = std::move(root);
  out->fd_ = FileHandle(fd);
  return Status::OK();
}

bool JobDir::IsAt(const fs::path& path) const {
  struct stat at, self;
  return lstat(path.c_str(), &at) == 0 && S_ISDIR(at.st_mode) && fstat(fd_.get(), &self) == 0 &&
         at.st_dev == self.st_dev && at.st_ino == self.st_ino;
}

fs::path JobDir::CurrentPath() const {
  struct stat self;
  if (fstat(fd_.get(), &self) != 0 || self.st_nlink == 0) return {};  // removed
  std::error_code ec;
  fs::path now = fs::read_symlink(fmt::format("/proc/self/fd/{}", fd_.get()), ec);
  if (ec || !now.is_absolute() || !IsAt(now)) return {};
  return now;
}

Status JobDir::Relative(const fs::path& path, fs::path* rel) const {
  fs::path r = path.is_absolute() ? path.lexically_normal().lexically_relative(root_)
                                  : path.lexically_normal();
  if (r.empty())
    return Status::Invalid(
        fmt::format("{} is not inside the job dir {}", path.string(), root_.string()));
  for (const fs::path& part : r)
    if (part == "..")
      return Status::Invalid(
          fmt::format("{}: leaves the job dir {}", path.string(), root_.string()));
  *rel = r;
  return Status::OK();
}

Status JobDir::OpenBeneath(const fs::path& path, int flags, FileHandle* out) const {
  fs::path rel;
  VERDI_RETURN_IF_ERROR(Relative(path, &rel));
  flags |= O_CLOEXEC | O_NOCTTY | O_NOFOLLOW;
  int fd = -1;
  if (!component_walk) {
    fd = Openat2(fd_.get(), rel.c_str(), flags);
    if (fd < 0 && errno == ENOSYS) component_walk = true;
  }
  if (component_walk) {
    do {
      fd = ComponentWalk(fd_.get(), rel, flags);
    } while (fd < 0 && errno == EINTR);
  }
  if (fd < 0) return OpenError(Show(rel), errno);
  *out = FileHandle(fd);
  return Status::OK();
}

Status JobDir::OpenRegular(const fs::path& path, FileHandle* out, uint64_t* size) const {
  FileHandle fd;
  VERDI_RETURN_IF_ERROR(OpenBeneath(path, O_RDONLY | O_NONBLOCK, &fd));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Status::IOError("fstat " + path.string(), errno);
  if (!S_ISREG(st.st_mode)) {
    fs::path rel;
    (void)Relative(path, &rel);
    return Status::Failed(
        fmt::format("{}: is {}, not a regular file: refused", Show(rel), TypeName(st.st_mode)));
  }
  if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
  *out = std::move(fd);
  return Status::OK();
}

Status JobDir::ReadFile(const fs::path& path, size_t limit, std::string* out) const {
  FileHandle fd;
  uint64_t size = 0;
  VERDI_RETURN_IF_ERROR(OpenRegular(path, &fd, &size));
  fs::path rel;
  VERDI_RETURN_IF_ERROR(Relative(path, &rel));
  auto too_big = [&] {
    return Status::Failed(
        fmt::format("{}: is larger than the limit of {} bytes: refused", Show(rel), limit));
  };
  if (size > limit) return too_big();
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("reading " + Show(rel), errno);
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > limit) return too_big();  // it grew
    text.append(buf, static_cast<size_t>(n));
  }
  *out = std::move(text);
  return Status::OK();
}

Status JobDir::ReadJson(const fs::path& path, Json* out, size_t limit) const {
  std::string text;
  VERDI_RETURN_IF_ERROR(ReadFile(path, limit, &text));
  fs::path rel;
  VERDI_RETURN_IF_ERROR(Relative(path, &rel));
  return ParseJsonText(text, Show(rel), out);
}

Status JobDir::OpenParent(const fs::path& rel, FileHandle* dir, std::string* name) const {
  fs::path parent = rel.parent_path();
  *name = rel.filename().string();
  if (name->empty() || *name == "." || *name == "..")
    return Status::Invalid(Show(rel) + ": not a file name");
  return OpenBeneath(parent.empty() ? fs::path(".") : parent, O_RDONLY | O_DIRECTORY, dir);
}

Status JobDir::WriteFile(const fs::path& path, std::string_view content) const {
  static std::atomic<unsigned> counter{0};
  fs::path rel;
  VERDI_RETURN_IF_ERROR(Relative(path, &rel));
  FileHandle dir;
  std::string name;
  VERDI_RETURN_IF_ERROR(OpenParent(rel, &dir, &name));
  std::string tmp = fmt::format(".{}.verdi-{}-{}", name, getpid(), counter.fetch_add(1));
  // O_EXCL: an existing name, a symlink included, fails instead of being followed.
  int raw =
      openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (raw < 0) return Status::IOError("creating " + Show(rel.parent_path() / tmp), errno);
  FileHandle fd(raw);
  Status st;
  while (st.ok() && !content.empty()) {
    ssize_t n = write(fd.get(), content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      st = Status::IOError("writing " + Show(rel.parent_path() / tmp), errno);
    else
      content.remove_prefix(static_cast<size_t>(n));
  }
  if (st.ok() && renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0)
    st = Status::IOError("renaming " + Show(rel.parent_path() / tmp) + " to " + Show(rel), errno);
  if (!st.ok()) unlinkat(dir.get(), tmp.c_str(), 0);
  return st;
}

Status JobDir::AppendFile(const fs::path& path, std::string_view text) const {
  FileHandle fd;
  VERDI_RETURN_IF_ERROR(OpenBeneath(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, &fd));
  fs::path rel;
  VERDI_RETURN_IF_ERROR(Relative(path, &rel));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Status::IOError("fstat " + Show(rel), errno);
  if (!S_ISREG(st.st_mode))
    return Status::Failed(
        fmt::format("{}: is {}, not a regular file: refused", Show(rel), TypeName(st.st_mode)));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("appending to " + Show(rel), errno);
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status JobDir::RemoveFile(const fs::path& path) const {
  fs::path rel;
  VERDI_RETURN_IF_ERROR(Relative(path, &rel));
  FileHandle dir;
  std::string name;
  VERDI_RETURN_IF_ERROR(OpenParent(rel, &dir, &name));
  if (unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT)
    return Status::IOError("removing " + Show(rel), errno);
  return Status::OK();
}

}  // namespace verdi
