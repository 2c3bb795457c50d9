#include "verdi/process/job_cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/log.h"

namespace verdi {
namespace {

// Where verdi's own cgroup is in the cgroup v2 hierarchy: the cgroup2 mount
// point (from /proc/self/mountinfo) joined with the "0::" line of
// /proc/self/cgroup. Empty when there is none.
std::string OwnCgroupDir() {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line, mount_point;
  while (std::getline(mounts, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, devs, root, point;
    fields >> id >> parent >> devs >> root >> point;
    if (root == "/") {
      mount_point = point;
      break;
    }
  }
  if (mount_point.empty()) return "";
  std::ifstream self("/proc/self/cgroup");
  while (std::getline(self, line))
    if (line.rfind("0::", 0) == 0) return mount_point + (line.size() > 3 ? line.substr(3) : "");
  return "";
}

bool WriteControl(const std::string& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  return out.good();
}

std::atomic<bool> warned{false};

void WarnOnce(const std::string& why) {
  if (!warned.exchange(true))
    LogWarning(
        "jobs run without a cgroup of their own ({}): a process that leaves a job's "
        "process group is not stopped with the job",
        why);
}

// The empty cgroups of verdi processes that died without removing them
// (killed with SIGKILL) are removed. One that still holds processes is left
// alone: the dead worker's next life finds them through crash recovery.
void SweepStale(const std::string& parent) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    unsigned long owner = 0;
    if (std::sscanf(name.c_str(), "verdi-job-%lu-", &owner) != 1) continue;
    if (owner == static_cast<unsigned long>(getpid()) || ::kill(static_cast<pid_t>(owner), 0) == 0)
      continue;                         // ours, or a live verdi's
    (void)rmdir(entry.path().c_str());  // EBUSY while processes are in it
  }
}

}  // namespace

std::unique_ptr<JobCgroup> JobCgroup::Create() {
  static const std::string parent = OwnCgroupDir();
  if (parent.empty()) {
    WarnOnce("no cgroup v2 hierarchy is mounted");
    return nullptr;
  }
  static std::once_flag swept;
  std::call_once(swept, [] { SweepStale(parent); });
  static std::atomic<uint64_t> serial{0};
  std::string path = fmt::format("{}/verdi-job-{}-{}", parent, getpid(), ++serial);
  if (mkdir(path.c_str(), 0755) != 0) {
    WarnOnce(fmt::format("mkdir {}: {}", path, std::strerror(errno)));
    return nullptr;
  }
  return std::make_unique<JobCgroup>(path);
}

bool JobCgroup::Add(pid_t pid) {
  if (WriteControl(path_ + "/cgroup.procs", std::to_string(pid))) return true;
  WarnOnce(fmt::format("moving process {} into {} failed", pid, path_));
  return false;
}

void JobCgroup::Kill() {
  std::ifstream probe(path_ + "/cgroup.kill");
  bool has_kill = probe.good();
  probe.close();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    std::ifstream procs(path_ + "/cgroup.procs");
    std::string pid;
    bool empty = true;
    while (procs >> pid) {
      empty = false;
      if (!has_kill) ::kill(static_cast<pid_t>(std::stol(pid)), SIGKILL);
    }
    if (empty || std::chrono::steady_clock::now() >= deadline) return;
    if (has_kill) WriteControl(path_ + "/cgroup.kill", "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

JobCgroup::JobCgroup(std::string path)
    : path_(std::move(path)), dir_fd_(open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}

JobCgroup::~JobCgroup() {
  if (dir_fd_ >= 0) close(dir_fd_);
  Kill();
  if (rmdir(path_.c_str()) != 0) LogWarning("rmdir {}: {}", path_, std::strerror(errno));
}

}  // namespace verdi
