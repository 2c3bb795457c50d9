// Running a job's pre- or post-processors as HySDS's worker does: each name
// in turn, a built-in through verdi's own implementation, any other name as
// a Python function; the first failure stops the rest and is the phase's
// error; a processor that does not signal continuation is logged (before the
// command, it means the command is not run).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobspec/processors.h"

namespace verdi {

/// How the processors run; both are set by the pipeline.
struct ProcessorHooks {
  /// Runs a built-in (never kNone); built-ins always signal continuation.
  std::function<Status(BuiltinProcessor builtin)> builtin;
  /// Calls the Python function `name`; `*proceed` gets the truth of what it
  /// returned. An error is the processor's failure (an exception, or it
  /// could not be run), its message the job's error.
  std::function<Status(const std::string& name, bool* proceed)> python;
};

/// Runs `names` in order, logging "running <label> <name>" for each.
/// `*proceed` is whether every one that ran signalled continuation (those
/// that did not are logged after the last one). The first error stops the
/// phase and is returned as it is.
Status RunProcessors(ProcessorPhase phase, const std::vector<std::string>& names,
                     const std::string& job_id, const ProcessorHooks& hooks, bool* proceed);

}  // namespace verdi
