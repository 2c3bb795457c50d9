#include "base/files.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>

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

// The umask, read without changing it (umask(2) can only set it, and setting
// it even for a moment would loosen the files other threads create then).
mode_t ProcessUmask() {
  FILE* f = fopen("/proc/self/status", "re");
  mode_t mask = 0777;  // unknown: every bit may be stripped, so always fchmod
  if (f == nullptr) return mask;
  char line[256];
  unsigned value = 0;
  while (fgets(line, sizeof line, f) != nullptr)
    if (sscanf(line, "Umask: %o", &value) == 1) {
      mask = static_cast<mode_t>(value);
      break;
    }
  fclose(f);
  return mask;
}

std::atomic<mode_t>& KnownUmask() {
  static std::atomic<mode_t> mask{ProcessUmask()};
  return mask;
}

// Creates `path` with `mode` (exactly, whatever the umask) and writes
// `content`; removes it again on failure.
Status CreateWithContent(const std::string& path, std::string_view content, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::IOError("open " + path, errno);
  Status st = WriteAll(fd, content, path);
  // The umask must not take away the bits asked for (_run.sh is 0755).
  if (st.ok() && UmaskStrips(mode) && fchmod(fd, mode) != 0)
    st = Status::IOError("chmod " + path, errno);
  if (close(fd) != 0 && st.ok()) st = Status::IOError("close " + path, errno);
  if (!st.ok()) unlink(path.c_str());
  return st;
}

}  // namespace

bool UmaskStrips(mode_t mode) { return (mode & KnownUmask().load()) != 0; }

void SetUmask(mode_t mask) {
  umask(mask);
  KnownUmask().store(mask & 0777);
}

Status WriteNewFile(const std::string& path, std::string_view content, mode_t mode) {
  return CreateWithContent(path, content, mode);
}

Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode) {
  // A name no other writer (thread or process) uses at the same time.
  static std::atomic<unsigned> counter{0};
  std::string tmp = fmt::format("{}.tmp.{}.{}", path, getpid(), counter.fetch_add(1));
  VERDI_RETURN_IF_ERROR(CreateWithContent(tmp, content, mode));
  if (rename(tmp.c_str(), path.c_str()) == 0) return Status::OK();
  Status st = Status::IOError("rename " + tmp, errno);
  unlink(tmp.c_str());
  return st;
}

std::filesystem::path CanonicalPath(const std::filesystem::path& path, std::error_code& ec) {
  ec.clear();
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) {
    ec.assign(errno, std::generic_category());
    return {};
  }
  char link[64], target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target);
  close(fd);
  std::string_view resolved(target, n > 0 ? static_cast<size_t>(n) : 0);
  // Not absolute (no /proc), cut, or removed meanwhile (" (deleted)").
  if (n <= 0 || static_cast<size_t>(n) >= sizeof target || resolved.front() != '/' ||
      resolved.ends_with(" (deleted)"))
    return std::filesystem::canonical(path, ec);
  return std::filesystem::path(resolved);
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
