// What Celery's daemonization options do for `verdi worker`: a pid file that
// keeps a second worker from starting, and detaching from the terminal.
#pragma once

#include <string>

#include "base/status.h"

namespace verdi {

/// Writes this process's pid to `path` (created 0644, written whole, then
/// renamed into place). Fails when `path` names a process that still runs,
/// as Celery's does; a pid file left by a dead process is replaced.
Status CreatePidFile(const std::string& path);

/// Removes `path` when it still holds this process's pid.
void RemovePidFile(const std::string& path);

/// Detaches as Celery's --detach: fork (the parent exits 0 at once), setsid,
/// fork again, stdin and stdout to /dev/null, stderr too unless it is a log
/// file (SetLogFile). Call it before any thread starts.
Status Detach(bool stderr_is_log_file);

}  // namespace verdi
