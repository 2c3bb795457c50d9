// The flags of `verdi worker`: Celery 5's worker options with their meaning,
// grouped as Celery's --help groups them (Worker, Pool, Queue, Features,
// Daemonization), then verdi's own.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "jobspec/json_field.h"
#include "verdi/cli/broker_flags.h"
#include "verdi/cli/lifecycle_flags.h"
#include "verdi/cli/log_flags.h"
#include "verdi/cli/pipeline_flags.h"

namespace verdi {

struct WorkerFlags {
  // Worker Options
  std::string app;  // -A: accepted, shown
  std::string nodename = "celery@%h";
  bool detach = false;
  std::string statedb;
  LogFlags log;                          // -l, --log-format
  std::string optimization = "default";  // -O default|fair
  int prefetch_multiplier = 1;
  // Pool Options
  int concurrency = 1;  // 0: the number of CPUs
  std::string pool = "prefork";
  bool task_events = false, without_task_events = false;
  double time_limit = 0, soft_time_limit = 0;  // 0: none
  int64_t hard_time_limit_gap = 300;
  int64_t max_tasks_per_child = 0;
  // Queue Options
  std::string queues;  // empty: task_queues, else task_default_queue
  std::string exclude_queues, include;
  int max_priority = 0;
  std::vector<std::string> queue_args;
  // Features
  bool without_gossip = false, without_mingle = false, without_heartbeat = false;
  double heartbeat_interval = 2.0;
  std::string autoscale;  // "MAX,MIN"
  // Daemonization Options
  std::string logfile, pidfile, uid, gid, umask, executable;
  // Broker and results
  BrokerFlags broker;
  std::string result_backend;
  int64_t result_expires = 86400;
  std::string result_serializer = "json", result_accept_content = "json,msgpack";
  std::string task_serializer = "json";
  bool acks_early = false, no_track_started = false;
  // Settings
  std::string config_file;
  bool print_config = false;
  // verdi's
  int64_t shutdown_timeout = 600;
  size_t max_message_size = 8 << 20;
  int failure_threshold = 10;
  double failure_window = 5.0;
  int metrics_port = 0;
  std::string metrics_bind = "0.0.0.0";
  std::string user_rules_job_queue = "user_rules_job";
  std::string dataset_processed_queue = "dataset_processed";
  double late_status_watch = 30;  // seconds
  PipelineFlags pipeline;
  LifecycleFlags lifecycle;
  // From the config file only (no flag can say them):
  /// task_queues: kombu Queue objects (python_config.h's JSON form), or
  /// Celery's older {name: {"exchange": ..., "routing_key": ...}}; null: none.
  Json task_queues;
  std::string default_queue = "celery", default_exchange, default_exchange_type = "direct",
              default_routing_key;
  bool create_missing_queues = true;
};

/// Adds every flag of `verdi worker` to `cmd`, in Celery's groups first.
void AddWorkerFlags(CLI::App* cmd, WorkerFlags* flags);

}  // namespace verdi
