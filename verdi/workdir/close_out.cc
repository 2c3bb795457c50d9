#include "verdi/workdir/close_out.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/files.h"
#include "base/log.h"
#include "jobspec/job_status.h"
#include "verdi/workdir/job_dir.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

// `_job.json` written by verdi may have been replaced by the job: read it
// without following a link or blocking on a FIFO, and only up to this size.
constexpr size_t kJobJsonLimit = 16 << 20;

// Appends a line to a file the job may have replaced with a link or a FIFO:
// only a regular file is appended to.
Status AppendToJobFile(const fs::path& path, const std::string& text) {
  int fd =
      open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(path.string(), errno);
  struct stat st;
  Status result;
  if (fstat(fd, &st) != 0)
    result = Status::IOError(path.string(), errno);
  else if (!S_ISREG(st.st_mode))
    result = Status::Invalid(path.string() + ": not a regular file");
  else if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    result = Status::IOError(path.string(), errno);
  close(fd);
  return result;
}

}  // namespace

Status CloseOutJobDir(const fs::path& dir, const JobEnd& end, Json* job) {
  Json& info = (*job)["job_info"];
  if (!info.is_object()) info = Json::object();
  int exit_code = end.exit_code;
  if (!end.error.empty() && exit_code == 0) exit_code = 1;  // HySDS: a failure is never 0
  info["status"] = exit_code;
  if (!info.contains("pid")) info["pid"] = 0;
  if (!info["metrics"].is_object()) info["metrics"] = Json::object();
  info["metrics"]["job_dir_size"] = DirectorySize(dir);
  info["time_end"] = IsoUtc(end.end);
  if (end.start) info["duration"] = SecondsBetween(*end.start, end.end);
  info["job_status"] = end.job_status;
  if (!end.error.empty()) info["error"] = end.error;
  if (end.signum != 0) info["signum"] = end.signum;
  Status first = WriteFileAtomic((dir / "_job.json").string(), DumpJsonFile(*job));
  if (!first.ok()) LogError("{}", first.message());
  Status done = MarkJobDone(dir, end.end);
  if (!done.ok()) LogError("{}", done.message());
  return first.ok() ? done : first;
}

Status CloseOutAbandonedJob(const fs::path& dir, const std::string& reason,
                            WallClock::time_point now, Json* job) {
  Status st = AppendToJobFile(dir / "_stderr.txt", reason + "\n");
  if (!st.ok()) LogWarning("{}", st.message());
  *job = Json::object();
  std::optional<std::string> text = ReadSmallFile(dir / "_job.json", kJobJsonLimit);
  if (text) {
    Json parsed;
    if (ParseJsonText(*text, (dir / "_job.json").string(), &parsed).ok() && parsed.is_object())
      *job = std::move(parsed);
  }
  JobEnd end;
  end.job_status = kJobFailed;
  end.exit_code = 1;
  end.error = reason;
  end.end = now;
  if (const Json* code = FindPath(*job, {"job_info", "status"});
      code != nullptr && code->is_number_integer() && code->get<int64_t>() != 0)
    end.exit_code = static_cast<int>(code->get<int64_t>());
  return CloseOutJobDir(dir, end, job);
}

}  // namespace verdi
