// Where `verdi manager` starts workers and how it counts them: one
// implementation per backend (local processes, Slurm, Kubernetes), as
// CodaLab's worker manager has one per batch system.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace verdi {

/// A worker the backend knows of. Pending: launched, not running yet (a
/// local worker not connected to the broker yet, a Slurm job PENDING, a
/// Kubernetes pod Pending).
struct WorkerJob {
  std::string id;
  bool active = false;
};

/// What every backend launches: `verdi worker` with these arguments, and
/// these environment variables (the broker URL goes there, not on a command
/// line that `ps` shows).
struct WorkerLaunch {
  std::string name;               // unique: "verdi-<backend>-<hex>"
  std::vector<std::string> args;  // after "verdi worker"
  std::vector<std::pair<std::string, std::string>> env;
};

class ManagerBackend {
 public:
  virtual ~ManagerBackend() = default;
  /// The workers that exist now (pending or active); finished ones are not
  /// listed.
  virtual Status ListWorkers(std::vector<WorkerJob>* workers) = 0;
  /// Starts one worker.
  virtual Status StartWorker(const WorkerLaunch& launch) = 0;
  /// What StartWorker would do, for --dry-run (a command line, a script, a
  /// manifest).
  virtual std::string Describe(const WorkerLaunch& launch) = 0;
};

}  // namespace verdi
