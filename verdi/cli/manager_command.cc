// `verdi manager`: keeps between --min-workers and --max-workers workers for
// a set of queues (CodaLab's worker manager rules), on this machine, on Slurm
// or on Kubernetes.

#include <unistd.h>

#include <climits>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "base/log.h"
#include "verdi/cli/broker_flags.h"
#include "verdi/cli/commands.h"
#include "verdi/cli/log_flags.h"
#include "verdi/manager/backend_kubernetes.h"
#include "verdi/manager/backend_local.h"
#include "verdi/manager/backend_slurm.h"
#include "verdi/manager/manager.h"
#include "verdi/process/interrupts.h"

namespace verdi {
namespace {

struct ManagerOptions {
  BrokerFlags broker;
  std::string backend = "local";
  std::string queues = "celery";
  int min_workers = 1, max_workers = 10;
  double min_seconds_between_workers = 60, sleep_time = 5, worker_idle_seconds = 600;
  bool once = false, dry_run = false;
  std::vector<std::string> worker_args;
  std::string verdi_path;
  std::string log_dir = "verdi-manager";
  LogFlags log;
  SlurmOptions slurm;
  KubernetesOptions k8s;
};

// This very executable, so local workers run the same verdi.
std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "verdi";
}

int RunManagerCommand(const ManagerOptions& o) {
  SignalInterrupts signals;  // before anything starts
  UseLogFlags(o.log);
  ManagerSettings s;
  s.broker_url = o.broker.Url();
  s.broker_tls = o.broker.Tls();
  std::stringstream names(o.queues);
  for (std::string q; std::getline(names, q, ',');)
    if (!q.empty()) s.queues.push_back(q);
  if (s.queues.empty()) {
    LogFatal("verdi manager: -Q: no queue given");
    return 2;
  }
  if (o.min_workers > o.max_workers) {
    LogFatal(fmt::format("verdi manager: --min-workers {} is more than --max-workers {}",
                         o.min_workers, o.max_workers));
    return 2;
  }
  s.rules = {o.min_workers, o.max_workers, o.min_seconds_between_workers};
  s.sleep_time = std::chrono::milliseconds(static_cast<int64_t>(o.sleep_time * 1000));
  s.once = o.once;
  s.dry_run = o.dry_run;
  s.backend_name = o.backend;
  s.worker_args = o.worker_args;
  s.worker_idle_seconds = o.worker_idle_seconds;
  std::string verdi = o.verdi_path.empty() ? SelfPath() : o.verdi_path;
  std::unique_ptr<ManagerBackend> backend;
  if (o.backend == "local") {
    backend = std::make_unique<LocalBackend>(verdi, o.log_dir);
  } else if (o.backend == "slurm") {
    SlurmOptions slurm = o.slurm;
    slurm.verdi_path = verdi;
    slurm.log_dir = std::filesystem::absolute(o.log_dir);
    slurm.script_dir = slurm.log_dir / "scripts";
    backend = std::make_unique<SlurmBackend>(slurm);
  } else {
    KubernetesOptions k8s = o.k8s;
    if (!o.verdi_path.empty()) k8s.verdi_path = o.verdi_path;
    backend = std::make_unique<KubernetesBackend>(k8s);
  }
  return RunManager(s, backend.get(), &signals);
}

}  // namespace

void AddManagerCommand(CLI::App* app, int* exit_code) {
  auto o = std::make_shared<ManagerOptions>();
  CLI::App* cmd = app->add_subcommand(
      "manager",
      "Keep between --min-workers and --max-workers verdi workers for the queues -Q, from\n"
      "their depth (CodaLab's worker manager rules): every --sleep-time seconds, launch one\n"
      "worker when jobs wait, fewer workers are pending than jobs wait, --max-workers is not\n"
      "reached and the last launch is --min-seconds-between-workers old; always up to\n"
      "--min-workers. Workers run with --exit-when-idle, so the farm shrinks by itself.\n"
      "Broker and backend errors are logged and tried again. SIGTERM/SIGINT: stop (the\n"
      "workers go on).");
  AddBrokerFlags(cmd, &o->broker);
  cmd->add_option("--backend", o->backend, "Where workers run: local, slurm or kubernetes")
      ->check(CLI::IsMember({"local", "slurm", "kubernetes"}))
      ->capture_default_str();
  cmd->add_option("-Q,--queues", o->queues, "The queues to watch and to consume, comma-separated")
      ->capture_default_str();
  cmd->add_option("--min-workers", o->min_workers, "Always at least this many workers")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--max-workers", o->max_workers, "Never more than this many")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--min-seconds-between-workers", o->min_seconds_between_workers,
                  "Seconds between two launches (the minimum aside)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--sleep-time", o->sleep_time, "Seconds between two looks at the queues")
      ->check(CLI::Range(0.05, 1e6))
      ->capture_default_str();
  cmd->add_flag("--once", o->once, "One iteration, then exit (debugging)");
  cmd->add_flag("--dry-run", o->dry_run,
                "Do not ask the backend nor start anything: print what would be started");
  cmd->add_option("--worker-idle-seconds", o->worker_idle_seconds,
                  "The workers' --idle-seconds: how long one waits without a job before it exits")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--worker-arg", o->worker_args,
                  "An argument for each worker (repeatable), e.g. --worker-arg=-c2\n"
                  "--worker-arg=--root-work-dir=/data/work; not -Q or -n, which the manager sets")
      ->allow_extra_args(false);
  cmd->add_option("--verdi", o->verdi_path,
                  "The verdi executable workers run (default: this one; kubernetes: verdi)");
  AddLogLevelFlag(cmd, &o->log);
  AddLogFormatFlag(cmd, &o->log);
  cmd->add_option("--log-dir", o->log_dir,
                  "local, slurm: where workers' logs (and Slurm job scripts) go")
      ->capture_default_str();
  cmd->add_option("--slurm-job-name", o->slurm.job_name, "slurm: the job name squeue counts")
      ->capture_default_str();
  cmd->add_option("--slurm-partition", o->slurm.partition, "slurm: sbatch --partition");
  cmd->add_option("--slurm-time", o->slurm.time_limit, "slurm: sbatch --time");
  cmd->add_option("--slurm-cpus", o->slurm.cpus_per_task, "slurm: sbatch --cpus-per-task");
  cmd->add_option("--slurm-mem", o->slurm.mem, "slurm: sbatch --mem");
  cmd->add_option("--sbatch-arg", o->slurm.sbatch_args, "slurm: another sbatch option (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--sbatch", o->slurm.sbatch, "slurm: the sbatch command")->capture_default_str();
  cmd->add_option("--squeue", o->slurm.squeue, "slurm: the squeue command")->capture_default_str();
  cmd->add_option("--k8s-image", o->k8s.image,
                  "kubernetes: the image holding verdi (the default is what scripts/image builds)")
      ->capture_default_str();
  cmd->add_option("--k8s-metrics-port", o->k8s.metrics_port,
                  "kubernetes: the workers' --metrics-port, probed at /healthz and /readyz")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--k8s-namespace", o->k8s.namespace_, "kubernetes: the namespace");
  cmd->add_option("--k8s-label", o->k8s.label,
                  "kubernetes: value of the verdi-manager label its Jobs are counted by")
      ->capture_default_str();
  cmd->add_option("--k8s-cpu", o->k8s.cpu, "kubernetes: cpu request and limit, e.g. 1");
  cmd->add_option("--k8s-memory", o->k8s.memory, "kubernetes: memory request and limit, e.g. 2Gi");
  cmd->add_option("--k8s-broker-secret", o->k8s.broker_secret,
                  "kubernetes: a Secret whose key broker_url holds the broker URL");
  cmd->add_option("--kubectl", o->k8s.kubectl, "kubernetes: the kubectl command")
      ->capture_default_str();
  cmd->callback([o, exit_code] { *exit_code = RunManagerCommand(*o); });
}

}  // namespace verdi
