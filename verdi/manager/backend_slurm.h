// `verdi manager --backend slurm`: each worker is a Slurm batch job (a
// script that execs `verdi worker`, submitted with sbatch), counted with
// squeue by job name. As CodaLab's slurm-batch backend does.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "verdi/manager/backend.h"

namespace verdi {

struct SlurmOptions {
  std::string verdi_path;  // as the compute nodes see it
  std::string job_name = "verdi-worker";
  std::string partition, time_limit, cpus_per_task, mem;
  std::vector<std::string> sbatch_args;  // more sbatch options, as given
  std::filesystem::path script_dir;      // where the job scripts are written
  std::filesystem::path log_dir;         // --output of each job
  std::string sbatch = "sbatch", squeue = "squeue";
};

/// The job script of one worker: "#!/bin/sh", the environment exported,
/// then `exec verdi worker ...`, every word quoted.
std::string SlurmWorkerScript(const SlurmOptions& options, const WorkerLaunch& launch);

/// The sbatch command line for `script`.
std::vector<std::string> SbatchArgv(const SlurmOptions& options, const WorkerLaunch& launch,
                                    const std::string& script);

/// Parses `squeue --noheader --format=%i|%T`: PENDING and CONFIGURING jobs
/// are pending, RUNNING and COMPLETING active, others (ending) left out.
Status ParseSqueue(const std::string& text, std::vector<WorkerJob>* workers);

class SlurmBackend : public ManagerBackend {
 public:
  explicit SlurmBackend(SlurmOptions options) : options_(std::move(options)) {}
  Status ListWorkers(std::vector<WorkerJob>* workers) override;
  Status StartWorker(const WorkerLaunch& launch) override;
  std::string Describe(const WorkerLaunch& launch) override;

 private:
  SlurmOptions options_;
};

}  // namespace verdi
