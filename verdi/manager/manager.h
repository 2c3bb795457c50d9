// `verdi manager`: keeps between min and max workers for a set of queues,
// from the queues' depth, with CodaLab's worker manager rules.
// Workers exit by themselves when idle (--exit-when-idle), so the farm
// shrinks without the manager stopping anything.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "verdi/amqp/link.h"
#include "verdi/manager/backend.h"
#include "verdi/process/interrupts.h"

namespace verdi {

struct ManagerRules {
  int min_workers = 1;
  int max_workers = 10;
  double min_seconds_between_workers = 60;
};

/// What one iteration sees.
struct ManagerView {
  int64_t waiting_jobs = 0;  // messages ready in the queues
  int workers = 0;           // pending + active
  int pending_workers = 0;
  /// Seconds since the last launch; nullopt before the first.
  std::optional<double> since_last_launch;
};

struct ManagerDecision {
  bool launch = false;
  std::string why;  // one line for the log
};

/// CodaLab's rule: launch one worker when jobs are waiting, unless the last
/// launch was less than min_seconds_between_workers ago, or there are as many
/// pending workers as waiting jobs already, or max_workers run; and launch
/// one anyway while fewer than min_workers exist.
ManagerDecision DecideLaunch(const ManagerRules& rules, const ManagerView& view);

struct ManagerSettings {
  std::string broker_url;
  AmqpTls broker_tls;
  std::vector<std::string> queues;
  ManagerRules rules;
  std::chrono::milliseconds sleep_time{5000};
  bool once = false;
  bool dry_run = false;
  /// "local", "slurm", "kubernetes": in names and logs.
  std::string backend_name;
  /// Given to each launched worker after "verdi worker" (before the manager
  /// adds -Q, -n, --exit-when-idle --idle-seconds).
  std::vector<std::string> worker_args;
  double worker_idle_seconds = 600;
};

/// Runs the loop until a signal from `signals` (SIGTERM, SIGINT) or, with
/// once, after one iteration. Broker and backend errors are logged and the
/// iteration is tried again after sleep_time. Returns the exit code: 0, or
/// 1 when the one iteration asked for by `once` failed.
int RunManager(const ManagerSettings& settings, ManagerBackend* backend, Interrupts* signals);

}  // namespace verdi
