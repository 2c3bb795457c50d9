#include "verdi/workdir/job_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace verdi {
namespace {

namespace fs = std::filesystem;

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Opens `relative` beneath `dir` (itself not a symlink) without following
// any symlink on the way. Errors name the file and say why in words.
Status OpenBeneath(const fs::path& dir, const std::string& relative, int flags, Fd* out) {
  std::string name = (dir / relative).string();
  Fd dirfd;
  dirfd.fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd.fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR)
      return Status::Invalid(dir.string() + ": the job dir is no longer a directory");
    return Status::IOError(dir.string(), errno);
  }
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  how.mode = (flags & O_CREAT) != 0 ? 0644 : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, dirfd.fd, relative.c_str(), &how, sizeof how);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP || err == EXDEV)
      return Status::Invalid(name + ": a link the job made, not followed");
    if (err == ENXIO) return Status::Invalid(name + ": not a regular file");
    return Status::IOError(name, err);
  }
  out->fd = static_cast<int>(fd);
  struct stat st;
  if (fstat(out->fd, &st) != 0) return Status::IOError(name, errno);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(name + ": not a regular file");
  return Status::OK();
}

}  // namespace

Status ReadJobFile(const fs::path& dir, const std::string& relative, size_t limit,
                   std::string* content) {
  Fd fd;
  VERDI_RETURN_IF_ERROR(OpenBeneath(dir, relative, O_RDONLY, &fd));
  std::string name = (dir / relative).string();
  content->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(name, errno);
    if (n == 0) return Status::OK();
    if (content->size() + static_cast<size_t>(n) > limit)
      return Status::Invalid(fmt::format("{}: larger than {} bytes", name, limit));
    content->append(buf, static_cast<size_t>(n));
  }
}

Status AppendJobFile(const fs::path& dir, const std::string& relative, const std::string& text) {
  Fd fd;
  VERDI_RETURN_IF_ERROR(OpenBeneath(dir, relative, O_WRONLY | O_APPEND | O_CREAT, &fd));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd.fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError((dir / relative).string(), errno);
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

}  // namespace verdi
