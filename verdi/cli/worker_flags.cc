#include "verdi/cli/worker_flags.h"

namespace verdi {
namespace {

void Group(CLI::App* cmd, const std::string& name) { cmd->option_defaults()->group(name); }

}  // namespace

void AddWorkerFlags(CLI::App* cmd, WorkerFlags* f) {
  Group(cmd, "Worker Options");
  cmd->add_option("-n,--hostname", f->nodename,
                  "Node name: %h host name, %n its first label, %d its domain; a name without\n"
                  "'@' gets celery@ before it")
      ->capture_default_str();
  cmd->add_flag("-D,--detach", f->detach,
                "Start as a background process (double fork, setsid, stdin/stdout to\n"
                "/dev/null; logs to --logfile, else nowhere). Under systemd or supervisord\n"
                "leave it out: they keep the worker in the foreground themselves");
  cmd->add_option("-S,--statedb", f->statedb,
                  "Celery's state database (accepted; verdi keeps revoked ids in memory and\n"
                  "finds the results of earlier runs in the result backend)");
  AddLogLevelFlag(cmd, &f->log);
  cmd->add_option("-O", f->optimization,
                  "Scheduling profile: default or fair. verdi schedules as Celery's fair\n"
                  "profile either way: a job slot takes a task only when it is free, and\n"
                  "the broker sends no more than --prefetch-multiplier x slots ahead")
      ->check(CLI::IsMember({"default", "fair"}))
      ->capture_default_str();
  cmd->add_option("--prefetch-multiplier", f->prefetch_multiplier,
                  "basic.qos = slots x this; 0: unlimited")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_option("-A,--app", f->app,
                  "Celery application (accepted: verdi's one task, run_job, is built in)");

  Group(cmd, "Pool Options");
  cmd->add_option("-c,--concurrency", f->concurrency,
                  "Job slots (jobs run at once); 0: the number of CPUs")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  cmd->add_option("-P,--pool", f->pool,
                  "Celery's pool: prefork, processes, threads or solo. verdi's job slots are\n"
                  "threads that each run their job as a child process, whatever the pool;\n"
                  "solo means one slot")
      ->check(CLI::IsMember({"prefork", "processes", "threads", "solo"}))
      ->capture_default_str();
  cmd->add_flag("-E,--task-events,--events", f->task_events,
                "Send task-* events (on by default for run_job, as HySDS configures Celery)");
  cmd->add_flag("--without-task-events", f->without_task_events,
                "Send only worker-* events and heartbeats");
  cmd->add_option("--time-limit", f->time_limit,
                  "Hard time limit in seconds of the jobs whose job_info and job-spec set\n"
                  "none (task_time_limit); 0: none")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--soft-time-limit", f->soft_time_limit,
                  "Soft time limit in seconds of the jobs whose job_info and job-spec set\n"
                  "none (task_soft_time_limit); 0: none")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--hard-time-limit-gap", f->hard_time_limit_gap,
                  "HySDS's HARD_TIME_LIMIT_GAP: with --soft-time-limit, the default hard\n"
                  "limit is at least the soft one plus this")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--max-tasks-per-child", f->max_tasks_per_child,
                  "Take this many jobs, then exit (code 0) once they end, for a supervisor to\n"
                  "start a fresh worker (the same as --exit-after-num-runs); 0: no limit")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 53));

  Group(cmd, "Queue Options");
  cmd->add_option("-Q,--queues", f->queues,
                  "Queues to consume, comma-separated (default: every queue of task_queues,\n"
                  "else task_default_queue, celery)");
  cmd->add_option("-X,--exclude-queues", f->exclude_queues,
                  "Queues not to consume, comma-separated");
  cmd->add_option("-I,--include", f->include,
                  "Python modules to import (accepted; verdi imports none)");
  cmd->add_option("--max-priority", f->max_priority,
                  "Declare queues with x-max-priority (task_queue_max_priority)");
  cmd->add_option("--queue-arg", f->queue_args,
                  "Another queue argument KEY=VALUE, e.g. x-queue-type=classic (repeatable)");

  Group(cmd, "Features");
  cmd->add_flag("--without-gossip", f->without_gossip,
                "Accepted: verdi does not gossip (it listens to no other worker's events)");
  cmd->add_flag("--without-mingle", f->without_mingle,
                "Accepted: verdi does not mingle (it asks no other worker for its state at\n"
                "start)");
  cmd->add_flag("--without-heartbeat", f->without_heartbeat,
                "Send no worker-heartbeat events (worker-online and worker-offline still go)");
  cmd->add_option("--heartbeat-interval", f->heartbeat_interval,
                  "Seconds between worker-heartbeat events")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--autoscale", f->autoscale,
                  "MAX,MIN: between MIN and MAX job slots: more at once when tasks wait for\n"
                  "one, back to what is busy (not below MIN) after AUTOSCALE_KEEPALIVE seconds\n"
                  "(30) without needing them; the broker sends up to MAX x\n"
                  "--prefetch-multiplier ahead. Wins over -c");

  Group(cmd, "Daemonization Options");
  cmd->add_option("-f,--logfile", f->logfile,
                  "Append the log (and anything else on stderr) to this file; SIGHUP reopens\n"
                  "it (logrotate) and the worker goes on");
  AddLogFormatFlag(cmd, &f->log);
  cmd->add_option("--pidfile", f->pidfile,
                  "Write the worker's pid here; refuse to start while the pid in it runs;\n"
                  "removed at exit");
  cmd->add_option("--uid", f->uid,
                  "Refused: run verdi as that user (systemd User=, supervisord user=)");
  cmd->add_option("--gid", f->gid,
                  "Refused: run verdi as that group (systemd Group=, supervisord user=)");
  cmd->add_option("--umask", f->umask, "Octal umask, e.g. 022");
  cmd->add_option("--executable", f->executable, "Refused: verdi has no Python to choose");

  Group(cmd, "Broker Options");
  AddBrokerFlags(cmd, &f->broker);

  Group(cmd, "Result Options");
  cmd->add_option("--result-backend", f->result_backend,
                  "redis://[:password@]host:port/db, rediss://..., rpc://, or empty for none")
      ->envname("CELERY_RESULT_BACKEND");
  cmd->add_option("--result-expires", f->result_expires, "Seconds results are kept")
      ->capture_default_str();
  cmd->add_option("--result-serializer", f->result_serializer,
                  "How results are written: json or msgpack (pickle is refused)")
      ->capture_default_str();
  cmd->add_option("--result-accept-content", f->result_accept_content,
                  "The serializers of stored results verdi reads back, comma separated")
      ->capture_default_str();
  cmd->add_option("--task-serializer", f->task_serializer,
                  "How the messages verdi sends are written (remote-control replies): json or "
                  "msgpack")
      ->capture_default_str();
  cmd->add_flag("--acks-early", f->acks_early,
                "Ack when a job starts instead of when it ends (a crash then loses the job)");
  cmd->add_flag("--no-track-started", f->no_track_started, "Do not store STARTED");

  Group(cmd, "Settings");
  cmd->add_option("--config", f->config_file,
                  "Settings file: a celeryconfig.py (read as Python reads it, without Python)\n"
                  "or the same keys in JSON; Celery's old names (BROKER_URL, ...) too. Flags\n"
                  "and environment variables win over it; a key verdi does not use is named\n"
                  "in a warning")
      ->envname("HYSDS_CELERY_CFG");
  cmd->add_flag("--print-config", f->print_config,
                "Print every setting in force and where it came from (flag, environment,\n"
                "file, default), secrets redacted, and exit");

  Group(cmd, "Worker Life");
  cmd->add_option("--shutdown-timeout", f->shutdown_timeout,
                  "Seconds a warm shutdown waits for running jobs")
      ->capture_default_str();
  cmd->add_option("--max-message-size", f->max_message_size,
                  "Largest task message body accepted, in bytes (after decompression too)")
      ->capture_default_str();
  cmd->add_option("--failure-threshold", f->failure_threshold,
                  "Job-drain protection: stop (exit 3) when more than this many jobs fail in a\n"
                  "row at >= threshold/--failure-window failures per second")
      ->envname("WORKER_CONTIGUOUS_FAILURE_THRESHOLD")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--failure-window", f->failure_window,
                  "Job-drain protection: seconds of the failure rate (see --failure-threshold)")
      ->envname("WORKER_CONTIGUOUS_FAILURE_TIME")
      ->check(CLI::Range(0.001, 1e9))
      ->capture_default_str();
  cmd->add_option("--metrics-port", f->metrics_port,
                  "Serve Prometheus metrics on http://<--metrics-bind>:PORT/metrics; 0: off")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--metrics-bind", f->metrics_bind,
                  "IPv4 address the metrics endpoint listens on (127.0.0.1: this host only)")
      ->capture_default_str();
  cmd->add_option("--user-rules-job-queue", f->user_rules_job_queue,
                  "Where a finished job's user rules task (hysds.task_worker.run_task,\n"
                  "user_rules_job) goes, as HySDS's run_job queues it; empty: none is sent")
      ->capture_default_str();
  cmd->add_option("--dataset-processed-queue", f->dataset_processed_queue,
                  "Where each published product's dataset:<ipath> job\n"
                  "(hysds.orchestrator.submit_job) goes, as HySDS's publish queues it; empty:\n"
                  "none is sent")
      ->capture_default_str();
  cmd->add_option("--late-status-watch", f->late_status_watch,
                  "Seconds a job's hysds-job-status key is watched after its terminal status:\n"
                  "a late non-terminal write there (the orchestrator's job-queued) gets the\n"
                  "terminal document sent again; 0: not watched")
      ->envname("VERDI_LATE_STATUS_WATCH")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  AddLifecycleFlags(cmd, &f->lifecycle);

  Group(cmd, "Job Pipeline Options");
  AddPipelineFlags(cmd, &f->pipeline);
  Group(cmd, "Options");
}

}  // namespace verdi
