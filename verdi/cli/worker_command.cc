// `verdi worker`: a Celery worker for hysds.job_worker.run_job, with Celery's
// worker options and the settings files HySDS deployments have, so that a
// supervisord line written for Celery changes only the program's name.

#include <sched.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <thread>

#include <algorithm>

#include <fmt/format.h>

#include "base/files.h"
#include "base/log.h"
#include "base/redact.h"
#include "verdi/cli/celery_global_flags.h"
#include "verdi/cli/commands.h"
#include "verdi/cli/config_file.h"
#include "verdi/cli/config_keys.h"
#include "verdi/cli/daemon.h"
#include "verdi/cli/worker_flags.h"
#include "verdi/cli/worker_queues.h"
#include "verdi/container/container_settings.h"
#include "verdi/job/host_facts.h"
#include "verdi/process/interrupts.h"
#include "verdi/worker/worker.h"

namespace verdi {
namespace {

// Celery's node name expansion: %h = host name (fqdn), %n = its first label,
// %d = the rest (domain), %% = %.
std::string ExpandNodename(const std::string& pattern) {
  const std::string& fqdn = GetHostFacts().fqdn;
  size_t dot = fqdn.find('.');
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out.push_back(pattern[i]);
      continue;
    }
    char c = pattern[++i];
    if (c == 'h')
      out += fqdn;
    else if (c == 'n')
      out += fqdn.substr(0, dot);
    else if (c == 'd')
      out += dot == std::string::npos ? "" : fqdn.substr(dot + 1);
    else if (c == '%')
      out.push_back('%');
    else
      out += std::string("%") + c;
  }
  // A bare name gets Celery's default prefix.
  return out.find('@') == std::string::npos ? "celery@" + out : out;
}

// -c 0: the CPUs this process may run on, as os.cpu_count() counts them.
int CpuCount() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

// The settings file: --config (or HYSDS_CELERY_CFG), else Celery's
// CELERY_CONFIG_MODULE (what `celery --config` sets), else with -A the
// `celeryconfig` module HySDS's app loads, when there is one.
Status FindConfig(const WorkerFlags& f, const CeleryGlobalFlags& g, std::string* path) {
  path->clear();
  std::string given = f.config_file;
  if (given.empty())
    if (const char* module = std::getenv("CELERY_CONFIG_MODULE")) given = module;
  if (!given.empty()) {
    *path = FindConfigModule(given);
    if (path->empty())
      return Status::Invalid(fmt::format(
          "--config {}: no such file, nor module in the working directory or on PYTHONPATH",
          given));
  } else if (!f.app.empty() || !g.app.empty()) {
    *path = FindConfigModule("celeryconfig");
  }
  return Status::OK();
}

// --autoscale MAX[,MIN], as Celery reads it (MIN 0 when left out).
Status ParseAutoscale(const std::string& text, int* max, int* min) {
  size_t comma = text.find(',');
  auto number = [](const std::string& s, int* out) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 0 || v > 1024) return false;
    *out = static_cast<int>(v);
    return true;
  };
  *min = 0;
  if (!number(text.substr(0, comma), max) ||
      (comma != std::string::npos && !number(text.substr(comma + 1), min)) || *max < 1 ||
      *min > *max)
    return Status::Invalid(
        "--autoscale: expected MAX,MIN with 0 <= MIN <= MAX, 1 <= MAX <= 1024, "
        "got \"" +
        text + "\"");
  return Status::OK();
}

std::optional<int64_t> Seconds(double seconds) {
  if (seconds <= 0) return std::nullopt;
  return static_cast<int64_t>(std::ceil(seconds));
}

Status MakeWorkerSettings(const WorkerFlags& f, WorkerSettings* s,
                          std::vector<std::string>* warnings) {
  s->broker_url = f.broker.Url();
  s->broker_tls = f.broker.Tls();
  s->result_backend = f.result_backend;
  s->result_expires = f.result_expires;
  s->concurrency = f.concurrency == 0 ? CpuCount() : f.concurrency;
  if (f.pool == "solo") {
    if (s->concurrency > 1)
      warnings->push_back(fmt::format("-P solo: one job slot, not {}", s->concurrency));
    s->concurrency = 1;
  }
  if (!f.autoscale.empty()) {
    VERDI_RETURN_IF_ERROR(ParseAutoscale(f.autoscale, &s->concurrency, &s->autoscale_min));
    if (const char* keepalive = std::getenv("AUTOSCALE_KEEPALIVE"))
      s->autoscale_keepalive =
          std::chrono::milliseconds(static_cast<int64_t>(std::atof(keepalive) * 1000));
  }
  s->prefetch_multiplier = f.prefetch_multiplier;
  s->acks_late = !f.acks_early;
  s->track_started = !f.no_track_started;
  s->task_events = !f.without_task_events;
  s->send_heartbeats = !f.without_heartbeat;
  s->heartbeat_interval =
      std::chrono::milliseconds(static_cast<int64_t>(f.heartbeat_interval * 1000));
  s->nodename = ExpandNodename(f.nodename);
  s->shutdown_timeout = std::chrono::seconds(f.shutdown_timeout);
  s->limits.max_body_bytes = f.max_message_size;
  s->drain = {f.failure_threshold, f.failure_window};
  s->metrics_port = static_cast<uint16_t>(f.metrics_port);
  s->metrics_bind = f.metrics_bind;
  s->pipeline = MakePipelineSettings(f.pipeline, s->nodename);
  VERDI_RETURN_IF_ERROR(
      ParseSerializer(f.result_serializer, "--result-serializer", &s->results.serializer));
  VERDI_RETURN_IF_ERROR(
      ParseSerializerList(f.result_accept_content, "--result-accept-content", &s->results.accept));
  VERDI_RETURN_IF_ERROR(
      ParseSerializer(f.task_serializer, "--task-serializer", &s->task_serializer));
  // Celery's task limits, for jobs that set none; with a soft one, the hard
  // one leaves HySDS's HARD_TIME_LIMIT_GAP after it.
  std::optional<int64_t> soft = Seconds(f.soft_time_limit), hard = Seconds(f.time_limit);
  if (soft && (!hard || *hard <= *soft + f.hard_time_limit_gap))
    hard = *soft + f.hard_time_limit_gap;
  s->pipeline.default_soft_time_limit = soft;
  s->pipeline.default_time_limit = hard;

  VERDI_RETURN_IF_ERROR(MakeQueueSpecs(f, &s->queues, warnings));
  // --group adds its queues (in place of the default ones without -Q).
  std::vector<std::string> names;
  for (const auto& q : s->queues) names.push_back(q.name);
  bool queues_chosen = !f.queues.empty() || !f.task_queues.is_null();
  VERDI_RETURN_IF_ERROR(MakeLifecycleSettings(f.lifecycle, queues_chosen, &names, &s->lifecycle));
  std::vector<QueueSpec> chosen;
  for (const auto& name : names) {
    auto it = std::find_if(s->queues.begin(), s->queues.end(),
                           [&](const QueueSpec& q) { return q.name == name; });
    Json arguments = s->queues.empty() ? Json::object() : s->queues[0].arguments;
    chosen.push_back(it != s->queues.end() ? *it : QueueSpec{name, arguments});
  }
  s->queues = std::move(chosen);
  // --max-tasks-per-child: verdi runs no pool of children to replace; the
  // worker itself goes after N jobs, for its supervisor to start afresh.
  if (f.max_tasks_per_child > 0) {
    if (f.lifecycle.exit_after_num_runs > 0 &&
        f.lifecycle.exit_after_num_runs != f.max_tasks_per_child)
      return Status::Invalid(
          fmt::format("--max-tasks-per-child {} and --exit-after-num-runs {} disagree",
                      f.max_tasks_per_child, f.lifecycle.exit_after_num_runs));
    s->lifecycle.exit.max_runs = f.max_tasks_per_child;
  }
  s->triggers.user_rules_job_queue = f.user_rules_job_queue;
  s->triggers.dataset_processed_queue = f.dataset_processed_queue;
  s->triggers.serializer = s->task_serializer;
  // Declared as Celery declares every queue it creates: as the worker's own.
  if (!s->queues.empty()) s->triggers.queue_arguments = s->queues[0].arguments;
  AmqpUrl url;
  return ParseAmqpUrl(s->broker_url, &url).WithPrefix("--broker");
}

// --print-config: every setting in force and where it came from.
class ConfigPrinter {
 public:
  ConfigPrinter(CLI::App* cmd, const SettingSources& sources) : cmd_(cmd), sources_(sources) {}

  // A setting shown under `name`, from the flags `flags` (comma separated;
  // the first one given names the source).
  void Row(const std::string& name, const std::string& value, const std::string& flags) {
    std::string source = "default";
    for (const auto& flag : Split(flags)) {
      const CLI::Option* option = cmd_->get_option_no_throw(flag);
      if (option == nullptr) continue;
      shown_.insert(option);
      std::string s = sources_.Of(option);
      if (s != "default" && source == "default") source = s;
    }
    Print(name, value, source);
  }
  // A setting only a file gives.
  void KeyRow(const std::string& name, const std::string& value, const std::string& key) {
    Print(name, value, sources_.OfKey(key));
  }
  // The flags no row showed, by their own names.
  void Rest() {
    for (const CLI::Option* option : cmd_->get_options()) {
      if (shown_.count(option) || option->get_lnames().empty()) continue;
      const std::string& name = option->get_lnames()[0];
      if (name == "help" || name == "print-config") continue;
      std::vector<std::string> results = option->results();
      std::string value;
      for (const auto& r : results) value += (value.empty() ? "" : ",") + r;
      if (results.empty()) value = option->get_default_str();
      Print("--" + name, value.empty() ? "(none)" : value, sources_.Of(option));
    }
  }

 private:
  static std::vector<std::string> Split(const std::string& text) {
    std::vector<std::string> out;
    for (size_t start = 0; start < text.size();) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      out.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }
  void Print(const std::string& name, const std::string& value, const std::string& source) {
    fmt::print("{} = {}  ({})\n", name, RedactUrls(value), source);
  }

  CLI::App* cmd_;
  const SettingSources& sources_;
  std::set<const CLI::Option*> shown_;
};

std::string OnOff(bool on) { return on ? "true" : "false"; }

void PrintConfig(CLI::App* cmd, const WorkerFlags& f, const WorkerSettings& s,
                 const SettingSources& sources, const std::string& config_path) {
  ConfigPrinter p(cmd, sources);
  AmqpUrl url;
  (void)ParseAmqpUrl(s.broker_url, &url);
  fmt::print(
      "# verdi worker settings: name = value  (flag, environment NAME, file FILE:LINE:COL, "
      "or default)\n");
  fmt::print("config_file = {}\n", config_path.empty() ? "(none)" : config_path);
  p.Row("app", f.app.empty() ? "(none: verdi's task is built in)" : f.app, "--app");
  p.Row("broker_url", s.broker_url, "--broker,--broker-use-ssl");
  p.Row("broker_heartbeat", std::to_string(url.heartbeat_seconds), "--broker-heartbeat,--broker");
  p.Row("broker_connection_timeout", std::to_string(url.connect_timeout_seconds),
        "--broker-connection-timeout,--broker");
  p.Row("broker_use_ssl.ca_certs", s.broker_tls.ca_file.empty() ? "(system)" : s.broker_tls.ca_file,
        "--broker-ca");
  p.Row("broker_use_ssl.certfile",
        s.broker_tls.cert_file.empty() ? "(none)" : s.broker_tls.cert_file, "--broker-cert");
  p.Row("broker_use_ssl.keyfile", s.broker_tls.key_file.empty() ? "(none)" : s.broker_tls.key_file,
        "--broker-key");
  p.Row("broker_use_ssl.cert_reqs", s.broker_tls.verify_peer ? "CERT_REQUIRED" : "CERT_NONE",
        "--broker-no-verify");
  p.Row("result_backend", s.result_backend.empty() ? "disabled" : s.result_backend,
        "--result-backend");
  p.Row("result_expires", std::to_string(s.result_expires), "--result-expires");
  std::string accept;
  for (Serializer a : s.results.accept)
    accept += (accept.empty() ? "" : ",") + std::string(SerializerName(a));
  p.Row("result_serializer", SerializerName(s.results.serializer), "--result-serializer");
  p.Row("result_accept_content", accept, "--result-accept-content");
  p.Row("task_serializer", SerializerName(s.task_serializer), "--task-serializer");
  std::string names;
  for (const auto& q : s.queues) names += (names.empty() ? "" : ",") + q.name;
  p.Row("queues", names, "--queues,--exclude-queues,--group");
  for (const auto& q : s.queues) {
    std::string name = fmt::format("queue[{}]", q.name);
    std::string value = fmt::format(
        "exchange {} ({}), routing key {}, arguments {}", q.exchange.empty() ? q.name : q.exchange,
        q.exchange_type.empty() ? "direct" : q.exchange_type,
        q.routing_key.empty() ? q.name : q.routing_key, q.arguments.dump());
    if (f.task_queues.is_null())
      p.Row(name, value, "--queues,--max-priority,--queue-arg");
    else
      p.KeyRow(name, value, "task_queues");
  }
  p.Row("queue_arguments", s.queues.empty() ? "{}" : s.queues[0].arguments.dump(),
        "--max-priority,--queue-arg");
  p.Row("hostname", s.nodename, "--hostname");
  p.Row("concurrency", std::to_string(s.concurrency), "--concurrency,--autoscale,--pool");
  p.Row("autoscale",
        s.autoscale_min < 0 ? "off"
                            : fmt::format("{},{} (keepalive {} s)", s.concurrency, s.autoscale_min,
                                          s.autoscale_keepalive.count() / 1000.0),
        "--autoscale");
  p.Row("pool", f.pool + " (job slots are threads; each job is its own process)", "--pool");
  p.Row("optimization", f.optimization + " (verdi schedules fairly either way)", "-O");
  p.Row("worker_prefetch_multiplier", std::to_string(s.prefetch_multiplier),
        "--prefetch-multiplier");
  p.Row("task_acks_late", OnOff(s.acks_late), "--acks-early");
  p.Row("task_track_started", OnOff(s.track_started), "--no-track-started");
  p.Row("worker_send_task_events", OnOff(s.task_events), "--without-task-events,--task-events");
  p.Row("heartbeat_interval", fmt::format("{}", s.heartbeat_interval.count() / 1000.0),
        "--heartbeat-interval");
  p.Row("worker_heartbeats", OnOff(s.send_heartbeats), "--without-heartbeat");
  p.Row("mingle", "off (verdi does not mingle)", "--without-mingle");
  p.Row("gossip", "off (verdi does not gossip)", "--without-gossip");
  auto limit = [](const std::optional<int64_t>& l) {
    return l ? std::to_string(*l) : std::string("none");
  };
  p.Row("task_soft_time_limit", limit(s.pipeline.default_soft_time_limit), "--soft-time-limit");
  p.Row("task_time_limit", limit(s.pipeline.default_time_limit),
        s.pipeline.default_soft_time_limit ? "--time-limit,--soft-time-limit" : "--time-limit");
  p.Row("HARD_TIME_LIMIT_GAP", std::to_string(f.hard_time_limit_gap), "--hard-time-limit-gap");
  p.Row("worker_max_tasks_per_child", std::to_string(f.max_tasks_per_child),
        "--max-tasks-per-child");
  p.Row("loglevel", f.log.level, "--loglevel");
  p.Row("verdi_log_format", f.log.format, "--log-format");
  p.Row("logfile", f.logfile.empty() ? "(stderr)" : f.logfile, "--logfile");
  p.Row("pidfile", f.pidfile.empty() ? "(none)" : f.pidfile, "--pidfile");
  p.Row("detach", OnOff(f.detach), "--detach");
  p.Row("shutdown_timeout", std::to_string(s.shutdown_timeout.count()), "--shutdown-timeout");
  p.Row("max_message_size", std::to_string(s.limits.max_body_bytes), "--max-message-size");
  p.Row("WORKER_CONTIGUOUS_FAILURE_THRESHOLD", std::to_string(s.drain.threshold),
        "--failure-threshold");
  p.Row("WORKER_CONTIGUOUS_FAILURE_TIME", fmt::format("{}", s.drain.window_seconds),
        "--failure-window");
  const PipelineSettings& ps = s.pipeline;
  p.Row("ROOT_WORK_DIR",
        ps.root_work_dir ? ps.root_work_dir->string() : "(worker config, else /data/work)",
        "--root-work-dir");
  p.Row("HYSDS_WORKER_CFG", ps.worker_config_file.value_or("(none: params._command)"),
        "--worker-config");
  p.Row("HYSDS_DATASETS_CFG", ps.datasets_config_file.value_or("(none)"), "--datasets-config");
  p.Row("GRQ_UPDATE_URL_BULK", ps.grq_update_url_bulk.empty() ? "(none)" : ps.grq_update_url_bulk,
        "--grq-update-url-bulk");
  p.Row("BACKOFF_MAX_TRIES", std::to_string(ps.backoff_max_tries), "--backoff-max-tries");
  p.Row("REDIS_JOB_STATUS_URL", f.pipeline.status_url.empty() ? "(none)" : f.pipeline.status_url,
        "--redis-job-status-url");
  p.Row("REDIS_JOB_STATUS_KEY", f.pipeline.status_key, "--redis-job-status-key");
  p.Row("REDIS_JOB_INFO_URL",
        f.pipeline.info_url.empty() ? "(the status Redis)" : f.pipeline.info_url,
        "--redis-job-info-url");
  p.Row("REDIS_JOB_INFO_KEY", f.pipeline.info_key, "--redis-job-info-key");
  p.Row("CONTAINER_ENGINE", ps.containers.engine, "--container-engine");
  p.Row("CONTAINER_REGISTRY", ps.containers.registry.value_or("(none)"), "--container-registry");
  std::string blacklist;
  for (const auto& m : ps.containers.mount_blacklist)
    blacklist += (blacklist.empty() ? "" : " ") + m;
  p.Row("WORKER_MOUNT_BLACKLIST", blacklist, "--worker-mount-blacklist");
  p.Row("CONTAINER_MOUNT_LAYOUT", MountLayoutName(ps.containers.mount_layout),
        "--container-mount-layout");
  std::string allowed;
  for (const auto& o : ps.containers.allowed_runtime_options)
    allowed += (allowed.empty() ? "" : " ") + o;
  p.Row("CONTAINER_ALLOWED_RUNTIME_OPTIONS",
        allowed.empty() ? "(none beyond the built-in ones)" : allowed,
        "--container-allowed-runtime-options");
  p.Row("CACHE_READ_ONLY", OnOff(ps.containers.cache_read_only), "--cache-read-only");
  p.Row("EVICT_CACHE", OnOff(ps.scrub.evict_cache), "--evict-cache");
  p.Row("BUCKET_PROFILES", f.pipeline.bucket_profiles.empty() ? "[]" : f.pipeline.bucket_profiles,
        "--bucket-profiles");
  p.Row("kill_grace", fmt::format("{}", ps.kill_grace.count() / 1000.0), "--kill-grace");
  std::string es_urls;
  if (ps.dedup != nullptr)
    for (const std::string& url : ps.dedup->settings().es_urls)
      es_urls += (es_urls.empty() ? "" : ",") + url;
  p.Row("JOBS_ES_URL", es_urls.empty() ? "(none: job_info.dedup not checked)" : es_urls,
        "--jobs-es-url");
  p.Row("JOBS_AWS_ES", OnOff(f.pipeline.jobs_aws_es), "--jobs-aws-es");
  p.Row("triage_version", ps.triage_version, "--triage-version");
  p.Row("TRIAGE_PARTITION_FORMAT",
        ps.triage_partition_format.empty() ? "(none)" : ps.triage_partition_format,
        "--triage-partition-format");
  const LifecycleSettings& l = s.lifecycle;
  p.Row("worker_exit_when_idle",
        l.exit.idle ? fmt::format("after {} s", l.exit.idle->count() / 1000.0) : "off",
        "--exit-when-idle,--idle-seconds");
  p.Row("worker_exit_after_num_runs", std::to_string(l.exit.max_runs),
        "--exit-after-num-runs,--max-tasks-per-child");
  p.Row("worker_exit_on_exception", OnOff(l.exit.exit_on_exception), "--exit-on-exception");
  p.Row("worker_max_work_dir_size",
        l.max_work_dir_bytes ? std::to_string(*l.max_work_dir_bytes) : "none",
        "--max-work-dir-size");
  p.Row("worker_group", l.group.empty() ? "(none)" : l.group, "--group");
  p.Row("USER_RULES_JOB_QUEUE",
        s.triggers.user_rules_job_queue.empty() ? "(none sent)" : s.triggers.user_rules_job_queue,
        "--user-rules-job-queue");
  p.Row("DATASET_PROCESSED_QUEUE",
        s.triggers.dataset_processed_queue.empty() ? "(none sent)"
                                                   : s.triggers.dataset_processed_queue,
        "--dataset-processed-queue");
  p.Row("worker_late_status_watch", fmt::format("{}", f.late_status_watch), "--late-status-watch");
  p.Rest();
}

// Checks what Celery's options ask that verdi refuses, and says what verdi
// makes of the ones it accepts.
Status CheckCeleryOptions(const WorkerFlags& f, const CeleryGlobalFlags& g,
                          std::vector<std::string>* notes) {
  if (!f.uid.empty())
    return Status::Invalid(
        "--uid: verdi does not change its user; start it as that user "
        "(systemd User=, supervisord user=)");
  if (!f.gid.empty())
    return Status::Invalid(
        "--gid: verdi does not change its group; start it with that group "
        "(systemd Group=, supervisord user=)");
  if (!f.executable.empty())
    return Status::Invalid("--executable: verdi has no Python interpreter to choose");
  std::string app = !f.app.empty() ? f.app : g.app;
  if (!app.empty())
    notes->push_back(
        fmt::format("-A {}: accepted; verdi's one task, "
                    "hysds.job_worker.run_job, is built in",
                    app));
  if (!f.include.empty())
    notes->push_back(fmt::format("-I {}: accepted; verdi imports no Python modules", f.include));
  if (!f.statedb.empty())
    notes->push_back(
        fmt::format("--statedb {}: not used; verdi keeps revoked task ids in "
                    "memory, and a task's stored result stops a second run",
                    f.statedb));
  if (!g.loader.empty())
    notes->push_back(fmt::format("--loader {}: accepted; verdi has no loader", g.loader));
  return Status::OK();
}

int RunWorkerCommand(const WorkerSettings& given, const PipelineFlags& pipeline,
                     std::chrono::milliseconds late_status_watch) {
  SignalInterrupts signals;  // before any thread starts: they all inherit the mask
  WorkerSettings settings = given;
  std::unique_ptr<StatusReporter> reporter;
  Status st = MakeStatusReporter(pipeline, settings.nodename, late_status_watch, &reporter);
  if (!st.ok()) {
    LogFatal("verdi worker: " + st.message());
    return 2;
  }
  std::unique_ptr<HysdsKeys> keys;
  if (!pipeline.status_url.empty()) {
    st = HysdsKeys::Make(pipeline.status_url, &keys).WithPrefix("--redis-job-status-url");
    if (!st.ok()) {
      LogFatal("verdi worker: " + st.message());
      return 2;
    }
  }
  settings.pipeline.observer = reporter.get();
  settings.reporter = reporter.get();
  settings.keys = keys.get();
  int code = RunWorker(settings, &signals);
  if (reporter && !reporter->sink()->Flush(std::chrono::seconds(10)))
    LogError("statuses not delivered to Redis within 10 s: they are lost");
  return code;
}

int Worker(CLI::App* cmd, WorkerFlags* f, const CeleryGlobalFlags& g) {
  auto fail = [](const Status& st) {
    LogFatal("verdi worker: " + st.message());
    return 2;
  };
  UseLogFlags(f->log);  // again once a settings file had its say
  if (!f->logfile.empty() && !SetLogFile(f->logfile))
    return fail(Status::IOError("--logfile " + f->logfile, errno));
  std::vector<std::string> notes, warnings;
  if (Status st = CheckCeleryOptions(*f, g, &notes); !st.ok()) return fail(st);
  std::string config_path;
  SettingSources sources;
  if (Status st = FindConfig(*f, g, &config_path); !st.ok()) return fail(st);
  if (!config_path.empty()) {
    ConfigFile file;
    Status st = ReadConfigFile(config_path, ProcessEnv, &file);
    if (st.ok()) st = ApplyConfigFile(file, cmd, f, &sources, &warnings);
    if (!st.ok()) return fail(st);
  }
  UseLogFlags(f->log);
  WorkerSettings settings;
  if (Status st = MakeWorkerSettings(*f, &settings, &warnings); !st.ok()) return fail(st);
  mode_t umask_value = 0;
  if (!f->umask.empty()) {
    char* end = nullptr;
    long v = std::strtol(f->umask.c_str(), &end, 8);
    if (*end != '\0' || v < 0 || v > 0777)
      return fail(Status::Invalid("--umask: expected an octal mask such as 022, got " + f->umask));
    umask_value = static_cast<mode_t>(v);
  }
  if (f->print_config) {
    for (const auto& w : warnings) LogWarning("{}", w);
    PrintConfig(cmd, *f, settings, sources, config_path);
    return 0;
  }
  if (!config_path.empty()) LogInfo("settings from {}", config_path);
  for (const auto& w : warnings) LogWarning("{}", w);
  for (const auto& n : notes) LogInfo("{}", n);
  LogInfo("-P {}: {} job slot threads, each job in a process of its own{}", f->pool,
          settings.concurrency,
          f->optimization == "fair" ? "; -O fair: a slot takes a task only when it is free" : "");
  if (f->detach)
    if (Status st = Detach(!f->logfile.empty()); !st.ok()) return fail(st);
  if (!f->umask.empty()) SetUmask(umask_value);
  if (!f->pidfile.empty())
    if (Status st = CreatePidFile(f->pidfile); !st.ok()) return fail(st);
  int code = RunWorkerCommand(
      settings, f->pipeline,
      std::chrono::milliseconds(static_cast<int64_t>(f->late_status_watch * 1000)));
  if (!f->pidfile.empty()) RemovePidFile(f->pidfile);
  return code;
}

}  // namespace

void AddWorkerCommand(CLI::App* app, const CeleryGlobalFlags* globals, int* exit_code) {
  auto flags = std::make_shared<WorkerFlags>();
  CLI::App* cmd = app->add_subcommand(
      "worker",
      "Consume hysds.job_worker.run_job tasks from RabbitMQ as a Celery worker and run each\n"
      "job as run_job does. Celery's worker options work as in `celery worker`, and so do\n"
      "Celery's global ones before `worker` (verdi -A hysds -b URL worker ...).\n"
      "SIGTERM/SIGINT: warm shutdown (jobs finish, up to --shutdown-timeout); a second one,\n"
      "or SIGQUIT: cold shutdown (jobs stopped, requeued). SIGHUP: the log file is reopened.\n"
      "Exit codes: 0 after a shutdown (or --exit-when-idle, --exit-after-num-runs), 2 for\n"
      "bad settings, 3 after job-drain protection stopped the worker (more than\n"
      "--failure-threshold jobs failed in a row, fast), 4 after --exit-on-exception.");
  AddWorkerFlags(cmd, flags.get());
  cmd->callback(
      [cmd, flags, globals, exit_code] { *exit_code = Worker(cmd, flags.get(), *globals); });
}

}  // namespace verdi
