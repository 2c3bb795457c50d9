#include "verdi/process/orphan_guard.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

extern char** environ;

// The watchdog is a fork of verdi that never execs until it acts, so from
// the fork on it makes system calls only (verdi has other threads whose
// locks it inherits). It holds no descriptor but the cgroup's kill file: a
// broker socket held open by it would hide verdi's death from the broker.

namespace verdi {
namespace {

std::string FindOnPath(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string search = path ? path : "/usr/bin:/bin";
  size_t begin = 0;
  for (;;) {
    size_t end = search.find(':', begin);
    std::string dir = search.substr(begin, end == std::string::npos ? end : end - begin);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string::npos) return name;
    begin = end + 1;
  }
}

[[noreturn]] void Act(pid_t group, int kill_fd, const std::string& program, char* const* argv) {
  if (kill_fd >= 0) (void)write(kill_fd, "1", 1);
  kill(-group, SIGKILL);
  if (argv[0] == nullptr) _exit(0);
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0)
    for (int fd = 0; fd <= 2; ++fd) dup2(null_fd, fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(program.c_str(), argv, environ);
  _exit(127);
}

[[noreturn]] void Watch(pid_t parent, pid_t group, int kill_fd, const std::string& program,
                        char* const* argv) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  setsid();  // out of verdi's process group: a Ctrl-C there is not for it
  // Close everything but the kill file; 0, 1 and 2 included.
  auto close_range = [](unsigned first, unsigned last) {
    if (first <= last) syscall(SYS_close_range, first, last, 0);
  };
  if (kill_fd >= 0) {
    close_range(0, static_cast<unsigned>(kill_fd) - 1);
    close_range(static_cast<unsigned>(kill_fd) + 1, ~0u);
  } else {
    close_range(0, ~0u);
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  for (;;) {
    if (getppid() != parent) Act(group, kill_fd, program, argv);
    // The death signal, or any other: each wakes it to look again. The
    // supervisor stops it with SIGKILL.
    siginfo_t info;
    sigwaitinfo(&all, &info);
  }
}

}  // namespace

std::unique_ptr<OrphanGuard> OrphanGuard::Start(pid_t group, const std::string& cgroup_path,
                                                const std::vector<std::string>& cleanup) {
  int kill_fd = -1;
  if (!cgroup_path.empty())
    kill_fd = open((cgroup_path + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
  std::string program = cleanup.empty() ? "" : FindOnPath(cleanup[0]);
  std::vector<char*> argv;
  for (const std::string& arg : cleanup) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) Watch(parent, group, kill_fd, program, argv.data());
  int err = errno;
  if (kill_fd >= 0) close(kill_fd);
  if (pid < 0) {
    LogWarning("no watchdog for process group {} (fork: {}): should verdi die, the job runs on",
               group, std::strerror(err));
    return nullptr;
  }
  return std::unique_ptr<OrphanGuard>(new OrphanGuard(pid));
}

OrphanGuard::~OrphanGuard() {
  kill(pid_, SIGKILL);
  int ignored;
  while (waitpid(pid_, &ignored, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace verdi
