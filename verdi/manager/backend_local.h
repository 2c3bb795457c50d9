// `verdi manager --backend local`: workers as `verdi worker` processes on
// this machine, each in its own session (a signal to the manager does not
// reach them; they outlive it and exit when idle), its output in
// <log dir>/<name>.log.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>

#include "verdi/manager/backend.h"

namespace verdi {

class LocalBackend : public ManagerBackend {
 public:
  LocalBackend(std::string verdi_path, std::filesystem::path log_dir)
      : verdi_(std::move(verdi_path)), log_dir_(std::move(log_dir)) {}

  /// The workers this manager started that still run (exited ones are
  /// reaped and logged with their exit code). Active once its log says it
  /// connected to the broker.
  Status ListWorkers(std::vector<WorkerJob>* workers) override;
  Status StartWorker(const WorkerLaunch& launch) override;
  std::string Describe(const WorkerLaunch& launch) override;

 private:
  struct Child {
    std::string name;
    std::filesystem::path log;
    off_t read_to = 0;
    std::string tail;  // the end of what was read, for a line cut in two
    bool connected = false;
  };
  void ScanLog(Child* child);

  std::string verdi_;
  std::filesystem::path log_dir_;
  std::map<pid_t, Child> children_;
};

}  // namespace verdi
