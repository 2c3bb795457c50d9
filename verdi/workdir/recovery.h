// After a crash: closing out the job directories a dead worker left open.
#pragma once

#include <filesystem>
#include <string_view>

#include "base/timestamp.h"
#include "verdi/workdir/close_out.h"

namespace verdi {

/// A worker killed with SIGKILL (or a machine that lost power) leaves job
/// directories with `.running`, and maybe the job's processes still running.
/// When a worker starts, this finds every `.running` under <root>/jobs whose
/// owner (line 2) is `owner` — an earlier run of this very worker, which is
/// dead since its node name is in use again — kills what is left of the
/// command's process group (the `_pid` of that directory, only if that
/// process still runs in that directory), and writes `.done`, so nothing is
/// left running and the scrubber may reclaim the space. The broker redelivers
/// the job itself. Returns the number of directories closed out.
int RecoverAbandonedJobs(const std::filesystem::path& root, std::string_view owner,
                         WallClock::time_point now, const AbandonedJobReport& report = nullptr);

}  // namespace verdi
