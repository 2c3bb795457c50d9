#include "verdi/cli/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "base/files.h"

namespace verdi {
namespace {

// The pid in a pid file; 0 when there is none readable.
pid_t ReadPid(const std::string& path) {
  std::string text;
  if (!ReadFileToString(path, &text).ok()) return 0;
  char* end = nullptr;
  long pid = std::strtol(text.c_str(), &end, 10);
  return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

Status CreatePidFile(const std::string& path) {
  if (pid_t other = ReadPid(path); other != 0 && other != getpid()) {
    if (kill(other, 0) == 0 || errno == EPERM)
      return Status::Invalid(fmt::format(
          "--pidfile {}: process {} named in it still runs: is a worker running already?", path,
          other));
  }
  std::string tmp = fmt::format("{}.{}.tmp", path, getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("--pidfile " + path, errno);
  std::string text = fmt::format("{}\n", getpid());
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  close(fd);
  if (!written || rename(tmp.c_str(), path.c_str()) != 0) {
    if (written) err = errno;
    unlink(tmp.c_str());
    return Status::IOError("--pidfile " + path, err);
  }
  return Status::OK();
}

void RemovePidFile(const std::string& path) {
  if (ReadPid(path) == getpid()) unlink(path.c_str());
}

Status Detach(bool stderr_is_log_file) {
  auto fork_once = [](bool setsid_after) -> Status {
    pid_t pid = fork();
    if (pid < 0) return Status::IOError("--detach: fork", errno);
    if (pid > 0) _exit(0);
    if (setsid_after && setsid() < 0) return Status::IOError("--detach: setsid", errno);
    return Status::OK();
  };
  VERDI_RETURN_IF_ERROR(fork_once(true));
  VERDI_RETURN_IF_ERROR(fork_once(false));  // never a session leader: no controlling terminal
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return Status::IOError("--detach: /dev/null", errno);
  dup2(null, STDIN_FILENO);
  dup2(null, STDOUT_FILENO);
  if (!stderr_is_log_file) dup2(null, STDERR_FILENO);
  close(null);
  return Status::OK();
}

}  // namespace verdi
