#include "base/files.h"

#include <atomic>
#include <cerrno>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace verdi {
namespace {

Status WriteAll(int fd, std::string_view content, const std::string& path) {
  while (!content.empty()) {
    ssize_t n = write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("write " + path, errno);
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode) {
  // A name no other writer (thread or process) uses at the same time.
  static std::atomic<unsigned> counter{0};
  std::string tmp = fmt::format("{}.tmp.{}.{}", path, getpid(), counter.fetch_add(1));
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::IOError("open " + tmp, errno);
  Status st = WriteAll(fd, content, tmp);
  // The umask must not take away the bits asked for (_run.sh is 0755).
  if (st.ok() && fchmod(fd, mode) != 0) st = Status::IOError("chmod " + tmp, errno);
  if (close(fd) != 0 && st.ok()) st = Status::IOError("close " + tmp, errno);
  if (st.ok() && rename(tmp.c_str(), path.c_str()) != 0)
    st = Status::IOError("rename " + tmp, errno);
  if (!st.ok()) unlink(tmp.c_str());
  return st;
}

Status AppendToFile(const std::string& path, std::string_view content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + path, errno);
  Status st = WriteAll(fd, content, path);
  close(fd);
  return st;
}

Status ReadFileToString(const std::string& path, std::string* content) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return Status::IOError("read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  *content = std::move(out);
  return Status::OK();
}

}  // namespace verdi
