#include "verdi/workdir/close_out.h"

#include "base/dir_tree.h"
#include "base/files.h"
#include "base/log.h"
#include "jobspec/job_files.h"
#include "jobspec/job_status.h"
#include "verdi/workdir/job_dir.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace fs = std::filesystem;

Status CloseOutJobDir(const fs::path& dir, const JobEnd& end, Json* job) {
  // A job may have moved its dir away and put a link in its place: nothing
  // is written through it (the dir it moved is left without `.done`).
  if (!IsRealDirectory(dir)) {
    Status st =
        Status::Invalid(dir.string() + ": the job dir is no longer a directory; not closed out");
    LogError("{}", st.message());
    return st;
  }
  Json& info = (*job)["job_info"];
  if (!info.is_object()) info = Json::object();
  int exit_code = end.exit_code;
  if (!end.error.empty() && exit_code == 0) exit_code = 1;  // HySDS: a failure is never 0
  info["status"] = exit_code;
  if (!info.contains("pid")) info["pid"] = nullptr;  // HySDS: the command never ran
  if (!info["metrics"].is_object()) info["metrics"] = Json::object();
  info["metrics"]["job_dir_size"] =
      DirectorySize(dir, end.size_within.empty() ? dir : end.size_within);
  info["time_end"] = IsoUtc(end.end);
  if (end.start) info["duration"] = SecondsBetween(*end.start, end.end);
  info["job_status"] = end.job_status;
  if (!end.error.empty()) info["error"] = end.error;
  if (end.signum != 0) info["signum"] = end.signum;
  // These names are verdi's: a directory the job made at one would refuse
  // the rename that writes it (MarkJobDone sees to `.done`'s).
  for (const char* name : {"_job.json", ".running"})
    if (IsRealDirectory(dir / name))
      if (Status st = RemoveTree(dir / name); !st.ok()) LogWarning("{}", st.message());
  Status first = WriteFileAtomic((dir / "_job.json").string(), DumpJsonFile(*job));
  if (!first.ok()) LogError("{}", first.message());
  Status done = MarkJobDone(dir, end.end);
  if (!done.ok()) LogError("{}", done.message());
  return first.ok() ? done : first;
}

Status CloseOutAbandonedJob(const fs::path& dir, const std::string& reason,
                            WallClock::time_point now, Json* job) {
  // Its processes are gone: the access it took from the dir's owner is
  // given back first.
  if (Status restored = RestoreOwnerAccess(dir); !restored.ok())
    LogWarning("{}", restored.message());
  JobDir files;
  Status opened = JobDir::Open(dir, &files);
  Status st = opened.ok() ? files.AppendFile("_stderr.txt", reason + "\n") : opened;
  if (!st.ok()) LogWarning("{}", st.message());
  *job = Json::object();
  Json parsed;
  if (opened.ok() && files.ReadJson("_job.json", &parsed).ok() && parsed.is_object())
    *job = std::move(parsed);
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
