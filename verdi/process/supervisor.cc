#include "verdi/process/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/dir_tree.h"
#include "base/log.h"
#include "verdi/process/job_cgroup.h"
#include "verdi/process/orphan_guard.h"
#include "verdi/process/spawn.h"

// How the command is found: when argv[0] has no slash, it is looked up on the
// PATH of request.env (the job's own environment, which the child gets), or
// on verdi's PATH when request.env has none, the way execvp does it (an
// empty or relative PATH entry counts from request.dir, the child's cwd).
// The file found is then executed as it is (execve, not execvp), so that the
// parent's PATH never decides, and a file that is not an executable format
// fails with ENOEXEC (126) instead of being run by /bin/sh.

namespace verdi {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kExitCheckInterval{20};  // without a pidfd

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("write " + path.string(), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

/// Opens `path` for writing, truncated, close-on-exec, as an fd above 2 so
/// that the spawn's dup2s onto 0, 1 and 2 cannot clobber it.
// Every file of the job dir is opened relative to the dir's own descriptor,
// taken before the command runs, and never through a link: a job that moves
// its dir away and leaves a link in its place cannot redirect these writes.
Status OpenForWriting(int dirfd, const fs::path& path, int extra_flags, UniqueFd* fd) {
  int raw;
  do {
    raw = openat(dirfd, path.filename().c_str(),
                 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | extra_flags, 0644);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return Status::IOError("open " + path.string(), errno);
  fd->reset(raw);
  if (raw <= STDERR_FILENO) {
    int high = fcntl(raw, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    if (high < 0) return Status::IOError("dup " + path.string(), errno);
    fd->reset(high);
  }
  return Status::OK();
}

Status WriteFile(int dirfd, const fs::path& path, std::string_view content) {
  UniqueFd fd;
  VERDI_RETURN_IF_ERROR(OpenForWriting(dirfd, path, 0, &fd));
  VERDI_RETURN_IF_ERROR(WriteAll(fd.get(), content, path));
  // On Linux the fd is freed even when close fails; EINTR is no error.
  if (close(fd.release()) != 0 && errno != EINTR) {
    return Status::IOError("close " + path.string(), errno);
  }
  return Status::OK();
}

/// Renames `hold` to `name` in the dir, replacing whatever the job left at
/// `name` (a directory too): the name is verdi's.
Status PlaceHeld(int dirfd, const fs::path& dir, const char* hold, const char* name) {
  if (renameat(dirfd, hold, dirfd, name) == 0) return Status::OK();
  int err = errno;
  if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
    VERDI_RETURN_IF_ERROR(RemoveTreeAt(dirfd, name, (dir / name).string()));
    if (renameat(dirfd, hold, dirfd, name) == 0) return Status::OK();
    err = errno;
  }
  return Status::IOError("rename " + (dir / hold).string() + " to " + (dir / name).string(), err);
}

/// .exit_code_hold gets the code, then becomes _exit_code, as HySDS does.
/// Both names are verdi's: whatever the job left there (a read-only file, a
/// directory) is replaced. `held` is the hold as verdi created it: when the
/// name is still that file (same inode, no other link), the code is written
/// into it through that descriptor, with no new file.
Status WriteExitCode(int dirfd, const fs::path& dir, int code, UniqueFd& held) {
  const fs::path hold = dir / ".exit_code_hold";
  std::string text = std::to_string(code);
  struct stat named, mine;
  if (held.get() >= 0 && fstatat(dirfd, ".exit_code_hold", &named, AT_SYMLINK_NOFOLLOW) == 0 &&
      fstat(held.get(), &mine) == 0 && S_ISREG(named.st_mode) && named.st_nlink == 1 &&
      named.st_dev == mine.st_dev && named.st_ino == mine.st_ino && ftruncate(held.get(), 0) == 0 &&
      pwrite(held.get(), text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
      close(held.release()) == 0)
    return PlaceHeld(dirfd, dir, ".exit_code_hold", "_exit_code");
  held.reset();
  VERDI_RETURN_IF_ERROR(RemoveTreeAt(dirfd, ".exit_code_hold", hold.string()));
  VERDI_RETURN_IF_ERROR(WriteFile(dirfd, hold, text));
  return PlaceHeld(dirfd, dir, ".exit_code_hold", "_exit_code");
}

/// Finds what to execute for argv[0]: 0 and the path (as seen from the
/// child's cwd), or the errno of the failed search.
int ResolveProgram(const RunRequest& request, std::string* program) {
  const std::string& name = request.argv[0];
  if (name.empty()) return ENOENT;
  if (name.find('/') != std::string::npos) {
    *program = name;  // exec itself will tell what is wrong with it
    return 0;
  }
  std::string search;
  bool have_path = false;
  for (const std::string& entry : request.env) {
    if (entry.starts_with("PATH=")) {
      search = entry.substr(5);
      have_path = true;
      break;  // the first one, as getenv reads it
    }
  }
  if (!have_path) {
    if (const char* parent = std::getenv("PATH")) {
      search = parent;
    } else {
      search = "/bin:/usr/bin";
    }
  }
  int err = ENOENT;
  size_t begin = 0;
  for (;;) {
    size_t end = search.find(':', begin);
    std::string entry = search.substr(begin, end == std::string::npos ? end : end - begin);
    std::string candidate = (entry.empty() ? std::string(".") : entry) + "/" + name;
    fs::path seen = candidate.front() == '/' ? fs::path(candidate) : request.dir / candidate;
    struct stat st;
    if (stat(seen.c_str(), &st) == 0) {
      if (S_ISREG(st.st_mode)) {
        if (faccessat(AT_FDCWD, seen.c_str(), X_OK, AT_EACCESS) == 0) {
          *program = candidate;
          return 0;
        }
        err = EACCES;
      }
    } else if (errno == EACCES) {
      err = EACCES;
    }
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return err;
}

void KillGroup(pid_t pid, int sig) {
  // ESRCH: the group is gone already, nothing to do.
  if (killpg(pid, sig) != 0 && errno != ESRCH) {
    LogWarning("cannot send signal {} to process group {}: {}", sig, pid, std::strerror(errno));
  }
}

Status Reap(pid_t pid, int* wait_status) {
  for (;;) {
    if (waitpid(pid, wait_status, 0) == pid) return Status::OK();
    if (errno != EINTR) return Status::IOError(fmt::format("waitpid {}", pid), errno);
  }
}

/// Kills what is left of the group and reaps the leader, for the paths that
/// give up on a running child.
void Abandon(pid_t pid) {
  KillGroup(pid, SIGKILL);
  int ignored;
  (void)Reap(pid, &ignored);
}

/// Whether the child has exited (not reaped: it stays a zombie).
bool HasExited(pid_t pid) {
  siginfo_t info;
  info.si_pid = 0;
  for (;;) {
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
      return info.si_pid != 0;
    }
    if (errno != EINTR) return true;  // no such child: nothing to wait for
  }
}

/// The poll loop: waits for the child to exit while enforcing the deadlines
/// and the stop requests. Leaves the child unreaped.
Status Supervise(const RunRequest& request, Interrupts* interrupts, pid_t pid, RunResult* result) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0) {
    LogWarning("pidfd_open: {}; checking on process {} every {} ms", std::strerror(errno), pid,
               kExitCheckInterval.count());
  }

  std::optional<SteadyClock::time_point> soft = request.soft_deadline;
  std::optional<SteadyClock::time_point> hard = request.hard_deadline;
  std::optional<SteadyClock::time_point> kill_at;  // SIGKILL after a SIGTERM or a stop request
  int requests = 0;
  bool watch_interrupts = interrupts != nullptr && interrupts->fd() >= 0;

  auto kill_now = [&] {
    KillGroup(pid, SIGKILL);
    soft.reset();
    hard.reset();
    kill_at.reset();
  };
  auto signal_then_kill = [&](int sig, SteadyClock::time_point now) {
    KillGroup(pid, sig);
    SteadyClock::time_point at = now + request.kill_grace;
    if (!kill_at || at < *kill_at) kill_at = at;
  };

  for (;;) {
    std::optional<SteadyClock::time_point> next;
    for (const auto& deadline : {soft, hard, kill_at}) {
      if (deadline && (!next || *deadline < *next)) next = deadline;
    }
    if (pidfd.get() < 0) {
      SteadyClock::time_point check = SteadyClock::now() + kExitCheckInterval;
      if (!next || check < *next) next = check;
    }
    timespec timeout{};
    if (next) {
      auto left = std::max(SteadyClock::duration::zero(), *next - SteadyClock::now());
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timeout.tv_sec = static_cast<time_t>(ns / 1000000000);
      timeout.tv_nsec = static_cast<long>(ns % 1000000000);
    }
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0},
                     {watch_interrupts ? interrupts->fd() : -1, POLLIN, 0}};
    int n = ppoll(fds, 2, next ? &timeout : nullptr, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      Abandon(pid);
      return Status::IOError("ppoll", err);
    }

    // An exit is looked at first: a child that ended on its own keeps
    // Ending::kExited, and a stop request still pending is left for the
    // caller.
    if (pidfd.get() >= 0 ? (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 : HasExited(pid)) {
      return Status::OK();
    }
    const SteadyClock::time_point now = SteadyClock::now();

    if (fds[1].revents != 0) {
      int sig = interrupts->Take();
      if (sig > 0) {
        ++requests;
        if (requests == 1) {
          LogInfo("stop request: sending signal {} to process group {}", sig, pid);
          if (result->ending == Ending::kExited) {
            result->ending = Ending::kInterrupted;
            result->signal = sig;
          }
          signal_then_kill(sig, now);
        } else {
          LogInfo("second stop request: killing process group {}", pid);
          kill_now();
        }
      } else if ((fds[1].revents & POLLIN) == 0) {
        watch_interrupts = false;  // hung up or broken: it will never say more
      }
    }
    if (hard && now >= *hard) {
      LogInfo("hard time limit reached: killing process group {}", pid);
      if (result->ending == Ending::kExited || result->ending == Ending::kSoftLimit) {
        result->ending = Ending::kHardLimit;
      }
      kill_now();
    }
    if (soft && now >= *soft) {
      LogInfo("soft time limit reached: sending SIGTERM to process group {}", pid);
      soft.reset();
      if (result->ending == Ending::kExited) result->ending = Ending::kSoftLimit;
      signal_then_kill(SIGTERM, now);
    }
    if (kill_at && now >= *kill_at) {
      LogInfo("process group {} still running {} ms after the signal: killing it", pid,
              request.kill_grace.count());
      kill_now();
    }
  }
}

}  // namespace

Status RunSupervised(const RunRequest& request, Interrupts* interrupts, RunResult* result) {
  *result = RunResult{};
  if (request.argv.empty()) return Status::Invalid("RunSupervised: empty command");
  const fs::path& dir = request.dir;

  UniqueFd dirfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dirfd.get() < 0) return Status::IOError("open " + dir.string(), errno);
  UniqueFd out, err;
  VERDI_RETURN_IF_ERROR(OpenForWriting(dirfd.get(), dir / "_stdout.txt", 0, &out));
  // O_APPEND: what verdi appends later never overwrites the child's output.
  VERDI_RETURN_IF_ERROR(OpenForWriting(dirfd.get(), dir / "_stderr.txt", O_APPEND, &err));
  // Kept open: the code is written into it when the command has ended.
  UniqueFd exit_hold;
  VERDI_RETURN_IF_ERROR(OpenForWriting(dirfd.get(), dir / ".exit_code_hold", 0, &exit_hold));
  VERDI_RETURN_IF_ERROR(WriteAll(exit_hold.get(), "255", dir / ".exit_code_hold"));
  // Opened before the command starts, written and renamed _pid after: the
  // command may take the dir's access away (`chmod 000 .`) in the meantime,
  // and then _pid is put in place once it has ended.
  UniqueFd pid_file;
  VERDI_RETURN_IF_ERROR(OpenForWriting(dirfd.get(), dir / ".pid_hold", 0, &pid_file));

  std::unique_ptr<JobCgroup> cgroup = JobCgroup::Create();
  result->start = WallClock::now();
  std::string program;
  int exec_error = ResolveProgram(request, &program);
  pid_t pid = 0;
  bool in_cgroup = false;
  if (exec_error == 0) {
    SpawnRequest spawn{program,
                       request.argv,
                       request.env,
                       request.dir.string(),
                       out.get(),
                       err.get(),
                       cgroup ? cgroup->dir_fd() : -1,
                       request.stdin_fd};
    VERDI_RETURN_IF_ERROR(SpawnChild(spawn, &pid, &exec_error, &in_cgroup));
  }

  if (exec_error != 0) {
    // As HySDS's runner when it cannot exec: exit code 1, no _pid.
    result->ending = Ending::kNotStarted;
    result->exit_code = 1;
    result->error =
        fmt::format("cannot execute {}: {}", request.argv[0], std::strerror(exec_error));
    result->end = WallClock::now();
    VERDI_RETURN_IF_ERROR(WriteAll(err.get(), result->error + "\n", dir / "_stderr.txt"));
    unlinkat(dirfd.get(), ".pid_hold", 0);
    return WriteExitCode(dirfd.get(), dir, result->exit_code, exit_hold);
  }

  // The child has its own copies; verdi's are no longer needed.
  out.reset();
  err.reset();
  result->pid = pid;
  // Whatever the job starts is in its cgroup (born there, or moved at once
  // on kernels that cannot), and is killed with it when this returns, even
  // in another session.
  if (cgroup && !in_cgroup) cgroup->Add(pid);
  // Should verdi die from here on, the job dies with it.
  std::unique_ptr<OrphanGuard> guard =
      OrphanGuard::Start(pid, cgroup ? cgroup->path() : "", request.orphan_cleanup);
  if (Status st = WriteAll(pid_file.get(), std::to_string(pid), dir / ".pid_hold"); !st.ok()) {
    Abandon(pid);
    return st;
  }
  pid_file.reset();
  bool pid_placed = renameat(dirfd.get(), ".pid_hold", dirfd.get(), "_pid") == 0;

  Status supervised = Supervise(request, interrupts, pid, result);
  if (!supervised.ok()) return supervised;

  // The leader is a zombie now and still holds the group id, so this reaches
  // only what is left of the job's group, never a reused pid.
  KillGroup(pid, SIGKILL);
  int wait_status = 0;
  VERDI_RETURN_IF_ERROR(Reap(pid, &wait_status));
  result->end = WallClock::now();
  if (WIFEXITED(wait_status)) {
    result->exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result->exit_code = -WTERMSIG(wait_status);
  }
  // No process of the job is left (its cgroup killed), so nothing it did to
  // the dir can change any more: whatever access it took from the dir's
  // owner (`chmod 000 .`, read-only files) is given back, through the
  // descriptor taken before it ran, before verdi writes there again.
  cgroup.reset();
  if (Status st = RestoreOwnerAccess(dirfd.get(), dir.string()); !st.ok())
    LogWarning("{}", st.message());
  if (!pid_placed) VERDI_RETURN_IF_ERROR(PlaceHeld(dirfd.get(), dir, ".pid_hold", "_pid"));
  return WriteExitCode(dirfd.get(), dir, result->exit_code, exit_hold);
}

}  // namespace verdi
