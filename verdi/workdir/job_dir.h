// Job work directories: <root>/jobs/YYYY/MM/DD/HH/mm/<job_id>, and the
// .running / .done markers that tell whether a job in one is finished.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/timestamp.h"

namespace verdi {

namespace fs = std::filesystem;

/// <root>/jobs/YYYY/MM/DD/HH/mm/<job_id>, the time parts in UTC.
/// `job_id` must already be validated (see jobspec/job_id.h).
fs::path JobDirPath(const fs::path& root, WallClock::time_point now, std::string_view job_id);

/// The part after <root>: "jobs/YYYY/MM/DD/HH/mm/<job_id>".
std::string JobDirRelative(WallClock::time_point now, std::string_view job_id);

/// Creates a fresh job directory for `dir` and its parents, then writes
/// `.running`: the ISO UTC time of `now` on line 1 and `owner` (who runs the
/// job) on line 2. Two executions never share a directory: when `dir` exists
/// already (the same job id in the same minute, e.g. a redelivered job), the
/// next free name of `dir.2`, `dir.3`, ... is used. `*created` is the one made.
Status CreateJobDir(const fs::path& dir, WallClock::time_point now, std::string_view owner,
                    fs::path* created);

/// Gives this user back search, read and write on the directories from
/// `root` down to `dir`'s parent that are its own and lack them: a job runs
/// as the worker's user and can `chmod 000 ..`, and verdi reaches the job
/// dir (and every other job dir of that minute) through them. A link on the
/// way is not followed; `dir` itself is not touched.
void RestoreOwnerAccessAbove(const fs::path& root, const fs::path& dir);

/// Close-out: renames `.running` to `.done` and writes the time of `now` in
/// it; creates `.done` when `.running` is already gone (HC-581).
Status MarkJobDone(const fs::path& dir, WallClock::time_point now);

/// Total apparent size in bytes of everything under `dir`, following
/// symlinks as `du -sbL` does (each file counted once, loops not followed),
/// but only those that resolve inside `within` (the work root, which holds
/// the input cache): a link the job made to `/` or to any host file counts
/// as the link itself, so it is never walked.
uint64_t DirectorySize(const fs::path& dir, const fs::path& within);

}  // namespace verdi
