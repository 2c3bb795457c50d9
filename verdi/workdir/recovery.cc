#include "verdi/workdir/recovery.h"

#include <csignal>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

#include "base/log.h"
#include "verdi/workdir/close_out.h"
#include "verdi/workdir/job_dir.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace {

// The job's process group leader, if it still runs in `dir`: the pid alone
// could have been reused by anything since.
pid_t LiveLeaderIn(const fs::path& dir) {
  std::optional<std::string> text = ReadSmallFile(dir / "_pid", 32);
  if (!text) return 0;
  pid_t pid = static_cast<pid_t>(std::atol(text->c_str()));
  if (pid <= 1) return 0;
  std::error_code ec;
  fs::path cwd = fs::read_symlink(fmt::format("/proc/{}/cwd", pid), ec);
  if (ec || cwd != dir) return 0;
  return pid;
}

}  // namespace

int RecoverAbandonedJobs(const fs::path& root, std::string_view owner, WallClock::time_point now,
                         const AbandonedJobReport& report) {
  int closed = 0;
  for (const fs::path& dir : JobDirsOldestFirst(root / "jobs")) {
    OwnerLook look(dir);  // its job may have run `chmod 000 .`
    std::optional<std::string> running = ReadSmallFile(dir / ".running", 4096);
    if (!running) continue;
    size_t eol = running->find('\n');
    std::string_view line2 =
        eol == std::string::npos ? "" : std::string_view(*running).substr(eol + 1);
    if (!line2.empty() && line2.back() == '\n') line2.remove_suffix(1);
    if (line2 != owner) continue;
    look.Keep();
    if (pid_t pid = LiveLeaderIn(dir.lexically_normal()); pid != 0) {
      kill(-pid, SIGKILL);
      LogWarning("recovery: killed process group {} left running in {}", pid, dir.string());
    }
    std::string reason = fmt::format(
        "Worker {} restarted while this job was running: its processes were killed, job failed.",
        owner);
    Json job;
    Status st = CloseOutAbandonedJob(dir, reason, now, &job);
    if (!st.ok()) LogWarning("recovery: {}", st.message());
    LogWarning("recovery: closed out {}, left open by an earlier run of {}", dir.string(), owner);
    if (report) report(job, reason);
    ++closed;
  }
  return closed;
}

}  // namespace verdi
