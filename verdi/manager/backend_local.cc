#include "verdi/manager/backend_local.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "base/redact.h"
#include "jobspec/shell_words.h"

extern char** environ;

namespace verdi {
namespace {

constexpr const char* kConnected = "connected to ";

std::vector<std::string> Environment(const WorkerLaunch& launch) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [k, v] : launch.env) replaced |= k == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [k, v] : launch.env) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

void LocalBackend::ScanLog(Child* child) {
  if (child->connected) return;
  int fd = open(child->log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[8192];
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, child->read_to);
    if (n <= 0) break;
    child->read_to += n;
    std::string text = child->tail + std::string(buf, static_cast<size_t>(n));
    if (text.find(kConnected) != std::string::npos) {
      child->connected = true;
      break;
    }
    child->tail = text.substr(text.size() > 32 ? text.size() - 32 : 0);
  }
  close(fd);
}

Status LocalBackend::ListWorkers(std::vector<WorkerJob>* workers) {
  workers->clear();
  for (auto it = children_.begin(); it != children_.end();) {
    int wstatus = 0;
    pid_t done = waitpid(it->first, &wstatus, WNOHANG);
    if (done == it->first || (done < 0 && errno == ECHILD)) {
      int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
      LogInfo("manager: worker {} (pid {}) exited with code {}", it->second.name, it->first, code);
      it = children_.erase(it);
      continue;
    }
    ScanLog(&it->second);
    workers->push_back({it->second.name, it->second.connected});
    ++it;
  }
  return Status::OK();
}

Status LocalBackend::StartWorker(const WorkerLaunch& launch) {
  std::error_code ec;
  std::filesystem::create_directories(log_dir_, ec);
  if (ec) return Status::IOError("creating the log directory " + log_dir_.string(), ec.value());
  std::filesystem::path log = log_dir_ / (launch.name + ".log");

  std::vector<std::string> argv = {verdi_, "worker"};
  argv.insert(argv.end(), launch.args.begin(), launch.args.end());
  std::vector<std::string> env = Environment(launch);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attr, &none);  // the manager blocks signals (signalfd)
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, verdi_.c_str(), &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::IOError("starting " + verdi_ + " worker", rc);
  children_[pid] = Child{launch.name, log};
  LogInfo("manager: worker {} is pid {}, its log {}", launch.name, pid, log.string());
  return Status::OK();
}

std::string LocalBackend::Describe(const WorkerLaunch& launch) {
  std::string out;
  for (const auto& [k, v] : launch.env) out += k + "=" + ShellQuote(RedactEnvValue(k, v)) + " ";
  std::vector<std::string> argv = {verdi_, "worker"};
  argv.insert(argv.end(), launch.args.begin(), launch.args.end());
  return out + ShellJoin(argv) + " >" + ShellQuote((log_dir_ / (launch.name + ".log")).string()) +
         " 2>&1";
}

}  // namespace verdi
