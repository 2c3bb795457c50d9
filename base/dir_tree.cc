#include "base/dir_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

namespace verdi {
namespace fs = std::filesystem;

namespace {

// How many directories of the walk stay open at once; those further up are
// closed and opened again through ".." (checked to be the same directory)
// on the way back, so any depth costs this many descriptors at most.
constexpr size_t kOpenLevels = 8;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

enum class Walk { kRestore, kRemove };

// Adds `bits` to the mode of `name` (in `dirfd`) when it is this user's and
// lacks one. Never through a symlink.
int AddOwnerBits(int dirfd, const char* name, const struct stat& st, mode_t bits) {
  if (st.st_uid != geteuid() || (st.st_mode & bits) == bits) return 0;
  return fchmodat(dirfd, name, (st.st_mode & 07777) | bits, AT_SYMLINK_NOFOLLOW);
}

// Clears the immutable and append-only flags of the open file or directory
// `fd` (only root may, and only root's jobs can set them).
void ClearFlags(int fd) {
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return;
  if ((flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) == 0) return;
  flags &= ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
  ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

// unlinkat, and once more after clearing the flags that stand in the way
// (on the entry, when it is a regular file or a directory, and on `dirfd`).
Status Unlink(int dirfd, const std::string& name, int flags, const std::string& shown) {
  if (unlinkat(dirfd, name.c_str(), flags) == 0 || errno == ENOENT) return Status::OK();
  int err = errno;
  if (err == EPERM) {
    ClearFlags(dirfd);
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
      Fd entry(openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (entry.valid()) ClearFlags(entry.get());
    }
    if (unlinkat(dirfd, name.c_str(), flags) == 0 || errno == ENOENT) return Status::OK();
    err = errno;
  }
  return Status::IOError("removing " + shown, err);
}

struct Frame {
  Fd fd;  // invalid while closed to bound the descriptors
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;                  // in its parent
  std::string shown;                 // its path, for messages
  std::vector<std::string> subdirs;  // not visited yet
};

// Reads the directory of `f`: each subdirectory made searchable and queued,
// each other entry removed (kRemove) or, a regular file, made readable and
// writable (kRestore).
Status List(Frame* f, Walk walk) {
  int copy = fcntl(f->fd.get(), F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Status::IOError("listing " + f->shown, errno);
  DIR* d = fdopendir(copy);
  if (d == nullptr) {
    int err = errno;
    close(copy);
    return Status::IOError("listing " + f->shown, err);
  }
  rewinddir(d);
  Status st;
  while (st.ok()) {
    errno = 0;
    const dirent* ent = readdir(d);
    if (ent == nullptr) {
      if (errno != 0) st = Status::IOError("listing " + f->shown, errno);
      break;
    }
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    std::string shown = f->shown + "/" + name;
    struct stat info;
    if (fstatat(f->fd.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) st = Status::IOError("stat " + shown, errno);
      continue;
    }
    if (S_ISDIR(info.st_mode) && info.st_dev != f->dev) {
      // A file system mounted there (only root can) is not the job's.
      if (walk == Walk::kRemove) st = Status::Failed(shown + ": a mount point: left as it is");
    } else if (S_ISDIR(info.st_mode)) {
      // An immutable directory refuses the chmod: as root it is not needed.
      if (AddOwnerBits(f->fd.get(), name.c_str(), info, S_IRWXU) != 0 && errno != EPERM)
        st = Status::IOError("chmod " + shown, errno);
      f->subdirs.push_back(std::move(name));
    } else if (walk == Walk::kRemove) {
      st = Unlink(f->fd.get(), name, 0, shown);
    } else if (S_ISREG(info.st_mode) && info.st_nlink == 1 &&
               AddOwnerBits(f->fd.get(), name.c_str(), info, S_IRUSR | S_IWUSR) != 0 &&
               errno != EPERM) {
      // A file with more links may be another's too (a read-only input
      // cache file the job linked in): left as it is.
      st = Status::IOError("chmod " + shown, errno);
    }
  }
  closedir(d);
  return st;
}

Status Identify(Frame* f) {
  struct stat st;
  if (fstat(f->fd.get(), &st) != 0) return Status::IOError("stat " + f->shown, errno);
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  return Status::OK();
}

// Walks everything below the directory `top` (borrowed, never closed),
// depth first; with kRemove, each directory is removed once it is empty.
Status WalkBelow(int top, const std::string& shown, Walk walk) {
  std::vector<Frame> stack(1);
  stack[0].fd = Fd(fcntl(top, F_DUPFD_CLOEXEC, 0));
  stack[0].shown = shown;
  if (!stack[0].fd.valid()) return Status::IOError("opening " + shown, errno);
  VERDI_RETURN_IF_ERROR(Identify(&stack[0]));
  VERDI_RETURN_IF_ERROR(List(&stack[0], walk));
  while (!stack.empty()) {
    if (!stack.back().subdirs.empty()) {
      Frame child;
      child.name = std::move(stack.back().subdirs.back());
      stack.back().subdirs.pop_back();
      child.shown = stack.back().shown + "/" + child.name;
      child.fd = Fd(openat(stack.back().fd.get(), child.name.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!child.fd.valid()) {
        if (errno == ENOENT) continue;  // gone meanwhile
        return Status::IOError("opening " + child.shown, errno);
      }
      VERDI_RETURN_IF_ERROR(Identify(&child));
      VERDI_RETURN_IF_ERROR(List(&child, walk));
      stack.push_back(std::move(child));
      if (stack.size() > kOpenLevels) stack[stack.size() - 1 - kOpenLevels].fd.reset();
      continue;
    }
    Frame done = std::move(stack.back());
    stack.pop_back();
    if (stack.empty()) break;  // the top: the caller's
    Frame& parent = stack.back();
    if (!parent.fd.valid()) {
      parent.fd = Fd(openat(done.fd.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      struct stat st;
      if (!parent.fd.valid() || fstat(parent.fd.get(), &st) != 0)
        return Status::IOError("opening " + parent.shown, errno);
      if (st.st_dev != parent.dev || st.st_ino != parent.ino)
        return Status::Failed(parent.shown + ": moved while it was walked; left as it is");
    }
    done.fd.reset();
    if (walk == Walk::kRemove)
      VERDI_RETURN_IF_ERROR(Unlink(parent.fd.get(), done.name, AT_REMOVEDIR, done.shown));
  }
  return Status::OK();
}

// The parent directory of `path` (the caller's: followed) and the name of
// `path` in it.
Status OpenParent(const fs::path& path, Fd* parent, std::string* name) {
  fs::path normal = path.lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  *name = normal.filename().string();
  if (name->empty() || *name == "." || *name == "..")
    return Status::Invalid(path.string() + ": not a name to walk");
  fs::path dir = normal.parent_path();
  *parent = Fd(open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent->valid()) return Status::IOError("opening " + dir.string(), errno);
  return Status::OK();
}

}  // namespace

Status RestoreOwnerAccess(int dirfd, const std::string& shown) {
  struct stat st;
  if (fstat(dirfd, &st) != 0) return Status::IOError("stat " + shown, errno);
  if (st.st_uid == geteuid() && (st.st_mode & S_IRWXU) != S_IRWXU &&
      fchmod(dirfd, (st.st_mode & 07777) | S_IRWXU) != 0 && errno != EPERM)
    return Status::IOError("chmod " + shown, errno);
  return WalkBelow(dirfd, shown, Walk::kRestore);
}

Status RestoreOwnerAccess(const fs::path& dir) {
  Fd parent;
  std::string name;
  VERDI_RETURN_IF_ERROR(OpenParent(dir, &parent, &name));
  struct stat st;
  if (fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return Status::IOError("stat " + dir.string(), errno);
  if (!S_ISDIR(st.st_mode)) return Status::Failed(dir.string() + ": not a directory");
  if (AddOwnerBits(parent.get(), name.c_str(), st, S_IRWXU) != 0 && errno != EPERM)
    return Status::IOError("chmod " + dir.string(), errno);
  Fd fd(openat(parent.get(), name.c_str(),
               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return Status::IOError("opening " + dir.string(), errno);
  return WalkBelow(fd.get(), dir.string(), Walk::kRestore);
}

Status RemoveTreeAt(int dirfd, const std::string& name, const std::string& shown) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    return Status::Invalid(shown + ": not a name to remove");
  struct stat st;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? Status::OK() : Status::IOError("stat " + shown, errno);
  if (!S_ISDIR(st.st_mode)) return Unlink(dirfd, name, 0, shown);
  AddOwnerBits(dirfd, name.c_str(), st, S_IRWXU);  // refused only where not needed
  Fd fd(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return Status::IOError("opening " + shown, errno);
  VERDI_RETURN_IF_ERROR(WalkBelow(fd.get(), shown, Walk::kRemove));
  fd.reset();
  return Unlink(dirfd, name, AT_REMOVEDIR, shown);
}

Status RemoveTree(const fs::path& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 && errno == ENOENT) return Status::OK();
  Fd parent;
  std::string name;
  VERDI_RETURN_IF_ERROR(OpenParent(path, &parent, &name));
  return RemoveTreeAt(parent.get(), name, path.string());
}

}  // namespace verdi
