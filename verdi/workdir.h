// Job work directories: <root>/jobs/YYYY/MM/DD/HH/mm/<job_id>, and the
// .running / .done markers that tell whether a job in one is finished.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "jobspec/status.h"
#include "jobspec/timestamp.h"

namespace verdi {

namespace fs = std::filesystem;

/// <root>/jobs/YYYY/MM/DD/HH/mm/<job_id>, the time parts in UTC.
/// `job_id` must already be validated (see jobspec/job_id.h).
fs::path JobDirPath(const fs::path& root, WallClock::time_point now, std::string_view job_id);

/// The part after <root>: "jobs/YYYY/MM/DD/HH/mm/<job_id>" (for job_url).
std::string JobDirRelative(WallClock::time_point now, std::string_view job_id);

/// Creates `dir` and its parents, then writes `.running`: the ISO UTC time of
/// `now` on line 1 and `owner` (who runs the job) on line 2.
/// An existing directory is accepted, but not one that already holds
/// `.running` or `.done` (the same job id in the same minute): that fails,
/// so two executions never share a directory.
Status CreateJobDir(const fs::path& dir, WallClock::time_point now, std::string_view owner);

/// Close-out: renames `.running` to `.done` and writes the time of `now` in
/// it; creates `.done` when `.running` is already gone (HC-581).
Status MarkJobDone(const fs::path& dir, WallClock::time_point now);

/// Total apparent size in bytes of everything under `dir`, following
/// symlinks as `du -sbL` does (each file counted once, loops not followed).
uint64_t DirectorySize(const fs::path& dir);

}  // namespace verdi
