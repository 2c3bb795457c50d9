// A ProcessRunner for publish's unit tests (the worker's own runs through
// its supervisor): posix_spawn, output to temp files, kill at the timeout.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "publish/metadata.h"

extern char** environ;

namespace verdi::publish::testing {

inline Status RunForTest(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                         ProcessOutput* output) {
  char tmpl[] = "/tmp/verdi_run_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Status::IOError("mkdtemp", errno);
  std::string out = std::string(tmpl) + "/out", err = std::string(tmpl) + "/err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::IOError("running " + argv[0], rc);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int wstatus = 0;
  while (waitpid(pid, &wstatus, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      output->timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  output->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  output->out = slurp(out);
  output->err = slurp(err);
  std::filesystem::remove_all(tmpl);
  return Status::OK();
}

}  // namespace verdi::publish::testing
