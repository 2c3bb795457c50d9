#include "verdi/process/spawn.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>

// The child is made with clone3 (fork semantics, plus CLONE_INTO_CGROUP)
// rather than posix_spawn, which cannot place it in a cgroup before it runs
// in glibc 2.36. Between the clone and the execve the child runs in a copy
// of a multi-threaded process, so it only makes system calls: no malloc, no
// locks, nothing built there. An execve failure reaches the parent through a
// close-on-exec pipe.

namespace verdi {
namespace {

// The kernel's struct clone_args (CLONE_ARGS_SIZE_VER2), spelled out so that
// <linux/sched.h> does not clash with <sched.h>.
struct CloneArgs {
  uint64_t flags = 0, pidfd = 0, child_tid = 0, parent_tid = 0, exit_signal = 0, stack = 0,
           stack_size = 0, tls = 0, set_tid = 0, set_tid_size = 0, cgroup = 0;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void ChildFailed(int report_fd, int err) {
  while (write(report_fd, &err, sizeof err) < 0 && errno == EINTR) {
  }
  _exit(127);
}

// Closes every descriptor from 3 up, except `keep`.
void CloseAbove2(int keep) {
  auto close_range = [](unsigned first, unsigned last) {
    if (first > last) return;
    if (syscall(SYS_close_range, first, last, 0) == 0) return;
    rlimit limit{};
    unsigned top = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 1u << 20
                       ? static_cast<unsigned>(limit.rlim_cur)
                       : 1u << 16;
    for (unsigned fd = first; fd <= last && fd < top; ++fd) close(static_cast<int>(fd));
  };
  close_range(3, static_cast<unsigned>(keep) - 1);
  close_range(static_cast<unsigned>(keep) + 1, ~0u);
}

// In the child, up to execve: system calls only.
[[noreturn]] void RunChild(const SpawnRequest& r, char* const* argv, char* const* envp,
                           pid_t parent, int report_fd) {
  // The kernel kills the child when the supervising thread dies (a SIGKILL to
  // verdi included); checked once more in case that happened already.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFailed(report_fd, errno);
  if (getppid() != parent) _exit(127);
  if (setsid() < 0) ChildFailed(report_fd, errno);
  // verdi ignores some signals (SIGPIPE) and blocks others; an ignored
  // disposition or a blocked signal would survive execve. (glibc refuses
  // its two internal signals here: they have handlers, which execve resets.)
  struct sigaction defaults = {};
  defaults.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &defaults, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0) ChildFailed(report_fd, errno);
  if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(r.out_fd, STDOUT_FILENO) < 0 ||
      dup2(r.err_fd, STDERR_FILENO) < 0)
    ChildFailed(report_fd, errno);
  // Only 0, 1 and 2 reach the job, even of fds someone opened without
  // O_CLOEXEC (as Python's close_fds does for HySDS).
  CloseAbove2(report_fd);
  if (chdir(r.dir.c_str()) != 0) ChildFailed(report_fd, errno);
  execve(r.program.c_str(), argv, envp);
  ChildFailed(report_fd, errno);
}

bool IsSystemError(int err) {
  return err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE;
}

}  // namespace

Status SpawnChild(const SpawnRequest& request, pid_t* pid, int* exec_error, bool* in_cgroup) {
  *pid = 0;
  *exec_error = 0;
  *in_cgroup = false;
  std::vector<char*> argv = CStrings(request.argv);
  std::vector<char*> envp = CStrings(request.env);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return Status::IOError("pipe2", errno);
  // Above 2, so that the child's dup2s onto 0, 1 and 2 cannot clobber it.
  if (report[1] <= STDERR_FILENO) {
    int high = fcntl(report[1], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int err = errno;
    close(report[1]);
    if (high < 0) {
      close(report[0]);
      return Status::IOError("dup", err);
    }
    report[1] = high;
  }
  const pid_t parent = getpid();

  long child = -1;
  if (request.cgroup_fd >= 0) {
    CloneArgs args;
    args.flags = kCloneIntoCgroup;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(request.cgroup_fd);
    child = syscall(SYS_clone3, &args, sizeof args);
    if (child == 0) RunChild(request, argv.data(), envp.data(), parent, report[1]);
    *in_cgroup = child > 0;
  }
  // No cgroup, or a kernel or cgroup that refuses to start a process in it:
  // a plain fork, moved by the caller.
  if (child < 0 && (request.cgroup_fd < 0 || !IsSystemError(errno))) {
    child = fork();
    if (child == 0) RunChild(request, argv.data(), envp.data(), parent, report[1]);
  }
  int err = errno;
  close(report[1]);
  if (child < 0) {
    close(report[0]);
    return Status::IOError("cannot start " + request.argv[0], err);
  }

  int child_error = 0;
  ssize_t n;
  do {
    n = read(report[0], &child_error, sizeof child_error);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == 0) {  // the pipe closed on execve: it runs
    *pid = static_cast<pid_t>(child);
    return Status::OK();
  }
  int ignored;
  while (waitpid(static_cast<pid_t>(child), &ignored, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof child_error))
    return Status::IOError("cannot start " + request.argv[0] + ": no word from the child", EIO);
  if (IsSystemError(child_error))
    return Status::IOError("cannot start " + request.argv[0], child_error);
  *exec_error = child_error;
  return Status::OK();
}

}  // namespace verdi
