#include "verdi/process/command_output.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace verdi {
namespace {

using Clock = std::chrono::steady_clock;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds)
    if (fd >= 0) close(fd);
}

}  // namespace

Status RunCommandOutput(const std::vector<std::string>& argv, const std::string& input,
                        std::chrono::milliseconds timeout, CommandOutput* result) {
  *result = CommandOutput();
  if (argv.empty()) return Status::Invalid("no command to run");
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    CloseAll({in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]});
    return Status::IOError("pipe", err);
  }
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    CloseAll({in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]});
    return Status::IOError("fork", err);
  }
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the caller may block signals (signalfd)
    execvp(cargv[0], cargv.data());
    dprintf(2, "cannot execute %s: %s\n", cargv[0], strerror(errno));
    _exit(127);
  }
  CloseAll({in_pipe[0], out_pipe[1], err_pipe[1]});
  // Small inputs fit in the pipe: write, then close, then read.
  signal(SIGPIPE, SIG_IGN);
  for (size_t off = 0; off < input.size();) {
    ssize_t n = write(in_pipe[1], input.data() + off, input.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the command does not read its input: fine
    off += static_cast<size_t>(n);
  }
  close(in_pipe[1]);
  Clock::time_point deadline = Clock::now() + timeout;
  struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result->out, &result->err};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result->timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      break;
    }
    int n = poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  CloseAll({fds[0].fd, fds[1].fd});
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  result->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
  if (result->exit_code == 127 && result->err.rfind("cannot execute", 0) == 0)
    return Status::Failed(Trim(result->err));
  return Status::OK();
}

std::string DescribeFailure(const std::vector<std::string>& argv, const CommandOutput& result) {
  std::string name = argv.empty() ? "?" : argv[0];
  if (result.timed_out) return fmt::format("`{}` timed out", name);
  std::string err = Trim(result.err);
  if (err.size() > 2000) err = err.substr(0, 2000) + "...";
  return fmt::format("`{}` exited {}{}", name, result.exit_code, err.empty() ? "" : ": " + err);
}

}  // namespace verdi
