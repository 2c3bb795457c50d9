// A pre- or post-processor that is a Python function `module.func(job,
// context)`, which HySDS's worker imports and calls in its own process:
// verdi runs it with the node's Python, hands it the job and the context,
// and reads back what it returned and what it made of both.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jobspec/json_field.h"
#include "verdi/process/interrupts.h"
#include "verdi/process/supervisor.h"

namespace verdi {

struct PythonProcessorRequest {
  std::string label;  // "pre-processor" or "post-processor": errors start with it and `name`
  std::string name;   // "module.func" (a name without a dot is evaluated, as HySDS does)
  /// The interpreter, looked up on the PATH of `env` when it has no slash.
  std::string python = "python3";
  /// The job dir: the function's cwd. A scratch dir is made in it for the
  /// interpreter's own files and removed afterwards.
  std::filesystem::path job_dir;
  /// The function's whole environment ("KEY=value" each): the worker's, as
  /// HySDS's worker process has it (PYTHONPATH included).
  std::vector<std::string> env;
  std::optional<SteadyClock::time_point> soft_deadline, hard_deadline;
  std::chrono::milliseconds kill_grace{5000};
};

/// What became of the call.
struct PythonProcessorCall {
  enum class Kind {
    kReturned,  // the function returned
    kRaised,    // it raised, or could not be imported
    kStopped,   // the interpreter was stopped: a time limit or a stop request
  };
  Kind kind = Kind::kReturned;
  /// kReturned: the truth of the value it returned, as HySDS's all() reads
  /// it, and its repr (cut at 200 characters) for the log.
  bool proceed = false;
  std::string result;
  /// kReturned and kRaised (when it was imported): the job and the context
  /// as the function left them (it may change both in place).
  std::optional<Json> job, context;
  /// kRaised: str() of the exception as HySDS reports it (its repr() when
  /// that is empty), its type and its traceback. An import failure's error
  /// names the processor: "<label> <name> could not be imported: ...".
  std::string error, exception, traceback;
  /// kStopped: how the interpreter ended.
  RunResult run;
  /// What the function and its children printed (stdout and stderr), the
  /// last 64 KiB.
  std::string output;
};

/// The largest reply (the job and the context as JSON) read back.
inline constexpr size_t kMaxPythonReplyBytes = 64 << 20;

/// Runs `python -c <driver> <name> <job_dir>` under the supervisor (own
/// process group and cgroup, the deadlines, stop requests from
/// `interrupts`, which may be null). The job and the context reach it on
/// stdin (from memory: never a file or an argv); the driver imports the
/// function with the scratch dir and the job dir kept off `sys.path`,
/// changes to the job dir, calls it, and writes its answer to the original
/// stdout, while whatever the function prints goes to stderr. An error
/// (naming the processor) when the interpreter cannot be run, ends without
/// an answer, or answers what cannot be read, or when the function left a
/// value in the job or the context that JSON cannot hold.
Status CallPythonProcessor(const PythonProcessorRequest& request, const Json& job,
                           const Json& context, Interrupts* interrupts, PythonProcessorCall* call);

}  // namespace verdi
