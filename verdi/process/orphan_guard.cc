#include "verdi/process/orphan_guard.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
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

// The watchdog is a process made with clone(CLONE_VM): it runs in verdi's
// memory on a stack of its own, so that making it copies no page table and
// leaves verdi no copy-on-write faults to take while it lives (a fork per
// job did both, for every job). It makes system calls only, reads only the
// block mapped for it (its stack, the group, the kill file, the clean-up
// argv: verdi frees nothing of it while it lives, and nothing at all once
// verdi is dead), and never execs until it acts. It holds no descriptor but
// the cgroup's kill file (its descriptor table is a copy): a broker socket
// held open by it would hide verdi's death from the broker.

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

[[noreturn]] void Act(pid_t group, int kill_fd, const char* program, char* const* argv) {
  if (kill_fd >= 0) (void)write(kill_fd, "1", 1);
  kill(-group, SIGKILL);
  if (argv[0] == nullptr) _exit(0);
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0)
    for (int fd = 0; fd <= 2; ++fd) dup2(null_fd, fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(program, argv, environ);
  _exit(127);
}

[[noreturn]] void Watch(pid_t parent, pid_t group, int kill_fd, const char* program,
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

// Everything the watchdog reads, at the bottom of the mapping made for it;
// its strings follow, its stack is the top of the mapping.
struct WatchBlock {
  pid_t parent, group;
  int kill_fd;
  char* program;
  char** argv;
};

constexpr size_t kWatchStack = 128 << 10;

int WatchMain(void* arg) {
  auto* b = static_cast<WatchBlock*>(arg);
  Watch(b->parent, b->group, b->kill_fd, b->program, b->argv);
}

}  // namespace

std::unique_ptr<OrphanGuard> OrphanGuard::Start(pid_t group, const std::string& cgroup_path,
                                                const std::vector<std::string>& cleanup) {
  std::string program = cleanup.empty() ? "" : FindOnPath(cleanup[0]);
  size_t data = sizeof(WatchBlock) + (cleanup.size() + 1) * sizeof(char*) + program.size() + 1;
  for (const std::string& arg : cleanup) data += arg.size() + 1;
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t size = (data + kWatchStack + page - 1) / page * page;
  void* map =
      mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (map == MAP_FAILED) {
    LogWarning("no watchdog for process group {} (mmap: {}): should verdi die, the job runs on",
               group, std::strerror(errno));
    return nullptr;
  }
  auto* block = static_cast<WatchBlock*>(map);
  auto** argv = reinterpret_cast<char**>(block + 1);
  char* text = reinterpret_cast<char*>(argv + cleanup.size() + 1);
  auto copy = [&text](const std::string& s) {
    char* at = text;
    std::memcpy(at, s.c_str(), s.size() + 1);
    text += s.size() + 1;
    return at;
  };
  for (size_t i = 0; i < cleanup.size(); ++i) argv[i] = copy(cleanup[i]);
  argv[cleanup.size()] = nullptr;
  block->program = copy(program);
  block->argv = argv;
  block->parent = getpid();
  block->group = group;
  block->kill_fd =
      cgroup_path.empty() ? -1 : open((cgroup_path + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
  // The stack grows down from the top of the mapping, 16-byte aligned.
  char* stack_top = static_cast<char*>(map) + size;
  pid_t pid = clone(WatchMain, stack_top, CLONE_VM | SIGCHLD, block);
  int err = errno;
  if (block->kill_fd >= 0) close(block->kill_fd);  // the watchdog has its own copy
  if (pid < 0) {
    munmap(map, size);
    LogWarning("no watchdog for process group {} (clone: {}): should verdi die, the job runs on",
               group, std::strerror(err));
    return nullptr;
  }
  return std::unique_ptr<OrphanGuard>(new OrphanGuard(pid, map, size));
}

OrphanGuard::~OrphanGuard() {
  kill(pid_, SIGKILL);
  int ignored;
  while (waitpid(pid_, &ignored, 0) < 0 && errno == EINTR) {
  }
  munmap(map_, map_size_);  // only once the watchdog is gone
}

}  // namespace verdi
