// Running a short command-line tool (sbatch, squeue, kubectl) and taking its
// output: for the worker manager's backends.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace verdi {

struct CommandOutput {
  int exit_code = 0;  // negative: killed by that signal
  std::string out, err;
  bool timed_out = false;
};

/// Runs `argv` (argv[0] looked up on PATH; no shell) with `input` on its
/// stdin (small: written before its output is read), waits at most
/// `timeout` (then kills it and sets timed_out). Returns an error only when
/// it could not be run at all (not found: Failed naming it).
Status RunCommandOutput(const std::vector<std::string>& argv, const std::string& input,
                        std::chrono::milliseconds timeout, CommandOutput* result);

/// "`sbatch` exited 1: <stderr, trimmed>" (or "timed out"), for messages.
std::string DescribeFailure(const std::vector<std::string>& argv, const CommandOutput& result);

}  // namespace verdi
