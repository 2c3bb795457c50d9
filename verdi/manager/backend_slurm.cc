#include "verdi/manager/backend_slurm.h"

#include <sstream>

#include <fmt/format.h>

#include "base/files.h"
#include "base/log.h"
#include "base/redact.h"
#include "jobspec/shell_words.h"
#include "verdi/process/command_output.h"

namespace verdi {
namespace {

constexpr std::chrono::seconds kTimeout{60};

}  // namespace

std::string SlurmWorkerScript(const SlurmOptions& options, const WorkerLaunch& launch) {
  std::string script = "#!/bin/sh\n# one verdi worker, started by verdi manager\n";
  for (const auto& [k, v] : launch.env) script += fmt::format("export {}={}\n", k, ShellQuote(v));
  std::vector<std::string> argv = {options.verdi_path, "worker"};
  argv.insert(argv.end(), launch.args.begin(), launch.args.end());
  return script + "exec " + ShellJoin(argv) + "\n";
}

std::vector<std::string> SbatchArgv(const SlurmOptions& options, const WorkerLaunch& launch,
                                    const std::string& script) {
  std::vector<std::string> argv = {
      options.sbatch, "--parsable", "--job-name=" + options.job_name,
      "--output=" + (options.log_dir / (launch.name + "-%j.log")).string()};
  if (!options.partition.empty()) argv.push_back("--partition=" + options.partition);
  if (!options.time_limit.empty()) argv.push_back("--time=" + options.time_limit);
  if (!options.cpus_per_task.empty()) argv.push_back("--cpus-per-task=" + options.cpus_per_task);
  if (!options.mem.empty()) argv.push_back("--mem=" + options.mem);
  argv.insert(argv.end(), options.sbatch_args.begin(), options.sbatch_args.end());
  argv.push_back(script);
  return argv;
}

Status ParseSqueue(const std::string& text, std::vector<WorkerJob>* workers) {
  workers->clear();
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    size_t bar = line.find('|');
    if (bar == std::string::npos)
      return Status::Invalid("squeue: expected JOBID|STATE, got \"" + line + "\"");
    std::string id = line.substr(0, bar), state = line.substr(bar + 1);
    while (!state.empty() && (state.back() == ' ' || state.back() == '\r')) state.pop_back();
    if (state == "PENDING" || state == "CONFIGURING")
      workers->push_back({id, false});
    else if (state == "RUNNING" || state == "COMPLETING")
      workers->push_back({id, true});
  }
  return Status::OK();
}

Status SlurmBackend::ListWorkers(std::vector<WorkerJob>* workers) {
  std::vector<std::string> argv = {options_.squeue, "--noheader", "--name=" + options_.job_name,
                                   "--format=%i|%T"};
  CommandOutput out;
  VERDI_RETURN_IF_ERROR(RunCommandOutput(argv, "", kTimeout, &out));
  if (out.timed_out || out.exit_code != 0) return Status::Failed(DescribeFailure(argv, out));
  return ParseSqueue(out.out, workers);
}

Status SlurmBackend::StartWorker(const WorkerLaunch& launch) {
  std::error_code ec;
  for (const auto& dir : {options_.script_dir, options_.log_dir}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("creating " + dir.string(), ec.value());
  }
  // 0700: it holds the broker URL with its password.
  std::string script = (options_.script_dir / (launch.name + ".sh")).string();
  VERDI_RETURN_IF_ERROR(WriteFileAtomic(script, SlurmWorkerScript(options_, launch), 0700));
  std::vector<std::string> argv = SbatchArgv(options_, launch, script);
  CommandOutput out;
  VERDI_RETURN_IF_ERROR(RunCommandOutput(argv, "", kTimeout, &out));
  if (out.timed_out || out.exit_code != 0) return Status::Failed(DescribeFailure(argv, out));
  std::string id = out.out.substr(0, out.out.find_first_of(";\n"));
  LogInfo("manager: worker {} is Slurm job {}", launch.name, id);
  return Status::OK();
}

std::string SlurmBackend::Describe(const WorkerLaunch& launch) {
  WorkerLaunch shown = launch;
  for (auto& [k, v] : shown.env) v = RedactEnvValue(k, v);
  std::string script = (options_.script_dir / (launch.name + ".sh")).string();
  return ShellJoin(SbatchArgv(options_, launch, script)) + "\n# " + script + ":\n" +
         SlurmWorkerScript(options_, shown);
}

}  // namespace verdi
