// `verdi worker`: a Celery worker for hysds.job_worker.run_job, with the
// options a Celery or HySDS user already knows.

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/log.h"
#include "base/redact.h"
#include "localize/url.h"
#include "verdi/cli/broker_flags.h"
#include "verdi/cli/commands.h"
#include "verdi/cli/config_file.h"
#include "verdi/cli/lifecycle_flags.h"
#include "verdi/cli/pipeline_flags.h"
#include "verdi/job/host_facts.h"
#include "verdi/process/interrupts.h"
#include "verdi/worker/worker.h"

namespace verdi {
namespace {

struct WorkerOptions {
  BrokerFlags broker;
  std::string result_backend;
  std::string queues = "celery";
  std::string nodename = "celery@%h";
  int concurrency = 1;
  int prefetch_multiplier = 1;
  bool acks_early = false;
  bool no_track_started = false;
  bool task_events = false, without_task_events = false;
  double heartbeat_interval = 2.0;
  int max_priority = 0;
  std::vector<std::string> queue_args;
  int64_t result_expires = 86400;
  std::string result_serializer = "json", result_accept_content = "json,msgpack";
  std::string task_serializer = "json";
  int64_t shutdown_timeout = 600;
  size_t max_message_size = 8 << 20;
  bool print_config = false;
  std::string config_file;
  int failure_threshold = 10;
  double failure_window = 5.0;
  int metrics_port = 0;
  std::string metrics_bind = "0.0.0.0";
  PipelineFlags pipeline;
  LifecycleFlags lifecycle;
  bool queues_given = false;  // -Q on the command line
};

// Setting names users have in their celeryconfig.py, and the flag each fills.
struct ConfigKey {
  const char* key;
  const char* flag;
  bool inverted;  // a True setting means the flag is off
};
constexpr ConfigKey kConfigKeys[] = {
    {"broker_url", "--broker", false},
    {"result_backend", "--result-backend", false},
    {"result_expires", "--result-expires", false},
    {"result_serializer", "--result-serializer", false},
    {"result_accept_content", "--result-accept-content", false},
    {"task_serializer", "--task-serializer", false},
    {"worker_concurrency", "--concurrency", false},
    {"worker_prefetch_multiplier", "--prefetch-multiplier", false},
    {"task_acks_late", "--acks-early", true},
    {"task_track_started", "--no-track-started", true},
    {"worker_send_task_events", "--without-task-events", true},
    {"task_queue_max_priority", "--max-priority", false},
    {"ROOT_WORK_DIR", "--root-work-dir", false},
    {"WEBDAV_URL", "--webdav-url", false},
    {"WEBDAV_PORT", "--webdav-port", false},
    {"EVICT_CACHE", "--evict-cache", false},
    {"GRQ_UPDATE_URL_BULK", "--grq-update-url-bulk", false},
    {"BACKOFF_MAX_TRIES", "--backoff-max-tries", false},
    {"TRIAGE_PARTITION_FORMAT", "--triage-partition-format", false},
    {"JOBS_ES_URL", "--jobs-es-url", false},
    {"JOBS_AWS_ES", "--jobs-aws-es", false},
    {"REDIS_JOB_STATUS_URL", "--redis-job-status-url", false},
    {"REDIS_JOB_STATUS_KEY", "--redis-job-status-key", false},
    {"REDIS_JOB_INFO_URL", "--redis-job-info-url", false},
    {"REDIS_JOB_INFO_KEY", "--redis-job-info-key", false},
    {"WORKER_CONTIGUOUS_FAILURE_THRESHOLD", "--failure-threshold", false},
    {"WORKER_CONTIGUOUS_FAILURE_TIME", "--failure-window", false},
    {"worker_metrics_port", "--metrics-port", false},
    {"CONTAINER_MOUNT_LAYOUT", "--container-mount-layout", false},
    {"CONTAINER_ALLOWED_RUNTIME_OPTIONS", "--container-allowed-runtime-options", false},
};

// Fills, from the config file, every flag that neither the command line nor
// its environment variable gave: flag > environment > config file > default.
Status ApplyConfigFile(CLI::App* cmd, const std::string& path) {
  std::vector<ConfigKey> table(std::begin(kConfigKeys), std::end(kConfigKeys));
  for (const auto& k : kLifecycleConfigKeys) table.push_back({k.key, k.flag, false});
  std::vector<std::string> keys;
  for (const auto& k : table) keys.push_back(k.key);
  std::map<std::string, Json> settings;
  VERDI_RETURN_IF_ERROR(ReadConfigFile(path, keys, &settings));
  for (const auto& k : table) {
    auto it = settings.find(k.key);
    CLI::Option* option = cmd->get_option(k.flag);
    if (it == settings.end() || it->second.is_null() || option->count() > 0) continue;
    const Json& value = it->second;
    std::string text;
    if (value.is_boolean()) {
      text = value.get<bool>() != k.inverted ? "true" : "false";
    } else if (value.is_string() && !k.inverted) {
      text = value.get<std::string>();
    } else if (value.is_number() && !k.inverted) {
      text = value.dump();
    } else if (value.is_array() && !k.inverted && !value.empty() &&
               std::all_of(value.begin(), value.end(),
                           [](const Json& v) { return v.is_string(); })) {
      for (const Json& item : value) text += (text.empty() ? "" : ",") + item.get<std::string>();
    } else {
      return Status::Invalid(fmt::format("{}: {}: expected {}, got {}", path, k.key,
                                         k.inverted ? "True or False" : "a value",
                                         DescribeJson(value)));
    }
    option->add_result(text);
    try {
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Status::Invalid(fmt::format("{}: {}: {}", path, k.key, e.what()));
    }
  }
  return Status::OK();
}

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

// "-Q a,b" and "--queue-arg x-max-priority=10" into queue specs.
Status MakeQueues(const WorkerOptions& options, std::vector<QueueSpec>* queues) {
  Json arguments = Json::object();
  if (options.max_priority > 0) arguments["x-max-priority"] = options.max_priority;
  for (const auto& arg : options.queue_args) {
    size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::Invalid("--queue-arg: expected KEY=VALUE, got \"" + arg + "\"");
    std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
    Json parsed = Json::parse(value, nullptr, false);  // numbers and booleans keep their type
    arguments[key] = parsed.is_number() || parsed.is_boolean() ? parsed : Json(value);
  }
  std::string_view rest = options.queues;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string name(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    if (name.empty())
      return Status::Invalid("-Q: an empty queue name in \"" + options.queues + "\"");
    queues->push_back({name, arguments});
  }
  if (queues->empty()) return Status::Invalid("-Q: no queue given");
  return Status::OK();
}

void PrintConfig(const WorkerSettings& s) {
  std::string queues;
  for (const auto& q : s.queues) queues += (queues.empty() ? "" : ",") + q.name;
  fmt::print("broker_url = {}\n", RedactUrls(s.broker_url));
  fmt::print("result_backend = {}\n",
             s.result_backend.empty() ? "disabled" : RedactUrls(s.result_backend));
  fmt::print("result_expires = {}\n", s.result_expires);
  std::string accept;
  for (Serializer a : s.results.accept)
    accept += (accept.empty() ? "" : ",") + std::string(SerializerName(a));
  fmt::print("result_serializer = {}\n", SerializerName(s.results.serializer));
  fmt::print("result_accept_content = {}\n", accept);
  fmt::print("task_serializer = {}\n", SerializerName(s.task_serializer));
  fmt::print("queues = {}\n", queues);
  fmt::print("queue_arguments = {}\n", s.queues.empty() ? "{}" : s.queues[0].arguments.dump());
  fmt::print("nodename = {}\n", s.nodename);
  fmt::print("concurrency = {}\n", s.concurrency);
  fmt::print("worker_prefetch_multiplier = {}\n", s.prefetch_multiplier);
  fmt::print("task_acks_late = {}\n", s.acks_late);
  fmt::print("task_track_started = {}\n", s.track_started);
  fmt::print("worker_send_task_events = {}\n", s.task_events);
  fmt::print("heartbeat_interval = {}\n", s.heartbeat_interval.count() / 1000.0);
  fmt::print("shutdown_timeout = {}\n", s.shutdown_timeout.count());
  fmt::print("ROOT_WORK_DIR = {}\n", s.pipeline.root_work_dir ? s.pipeline.root_work_dir->string()
                                                              : "(worker config, else /data/work)");
  fmt::print("HYSDS_WORKER_CFG = {}\n",
             s.pipeline.worker_config_file.value_or("(none: params._command)"));
  fmt::print("HYSDS_DATASETS_CFG = {}\n", s.pipeline.datasets_config_file.value_or("(none)"));
  fmt::print("GRQ_UPDATE_URL_BULK = {}\n", s.pipeline.grq_update_url_bulk.empty()
                                               ? "(none)"
                                               : RedactUrls(s.pipeline.grq_update_url_bulk));
  fmt::print("BACKOFF_MAX_TRIES = {}\n", s.pipeline.backoff_max_tries);
  std::string es_urls;
  if (s.pipeline.dedup != nullptr)
    for (const std::string& url : s.pipeline.dedup->settings().es_urls)
      es_urls += (es_urls.empty() ? "" : ",") + RedactUrls(url);
  fmt::print("JOBS_ES_URL = {}\n",
             es_urls.empty() ? "(none: job_info.dedup not checked)" : es_urls);
  fmt::print("kill_grace = {}\n", s.pipeline.kill_grace.count() / 1000.0);
  const ContainerSettings& c = s.pipeline.containers;
  fmt::print("CONTAINER_ENGINE = {}\n", c.engine);
  fmt::print("WORKER_MOUNT_BLACKLIST = {}\n", fmt::join(c.mount_blacklist, " "));
  fmt::print("CONTAINER_MOUNT_LAYOUT = {}\n", MountLayoutName(c.mount_layout));
  fmt::print("CONTAINER_ALLOWED_RUNTIME_OPTIONS = {}\n",
             c.allowed_runtime_options.empty()
                 ? "(none beyond the built-in ones)"
                 : fmt::format("{}", fmt::join(c.allowed_runtime_options, " ")));
  fmt::print("CACHE_READ_ONLY = {}\n", c.cache_read_only);
  fmt::print("max_message_size = {}\n", s.limits.max_body_bytes);
  const LifecycleSettings& l = s.lifecycle;
  fmt::print("worker_exit_when_idle = {}\n",
             l.exit.idle ? fmt::format("after {} s", l.exit.idle->count() / 1000.0) : "off");
  fmt::print("worker_exit_after_num_runs = {}\n", l.exit.max_runs);
  fmt::print("worker_exit_on_exception = {}\n", l.exit.exit_on_exception);
  fmt::print("worker_max_work_dir_size = {}\n",
             l.max_work_dir_bytes ? std::to_string(*l.max_work_dir_bytes) : "none");
  fmt::print("worker_group = {}\n", l.group.empty() ? "(none)" : l.group);
}

int RunWorkerCommand(const WorkerOptions& options) {
  SignalInterrupts signals;  // before any thread starts: they all inherit the mask

  WorkerSettings settings;
  settings.broker_url = options.broker.url;
  settings.broker_tls = options.broker.Tls();
  settings.result_backend = options.result_backend;
  settings.result_expires = options.result_expires;
  settings.concurrency = options.concurrency;
  settings.prefetch_multiplier = options.prefetch_multiplier;
  settings.acks_late = !options.acks_early;
  settings.track_started = !options.no_track_started;
  settings.task_events = !options.without_task_events;
  settings.heartbeat_interval =
      std::chrono::milliseconds(static_cast<int64_t>(options.heartbeat_interval * 1000));
  settings.nodename = ExpandNodename(options.nodename);
  settings.shutdown_timeout = std::chrono::seconds(options.shutdown_timeout);
  settings.limits.max_body_bytes = options.max_message_size;
  settings.drain = {options.failure_threshold, options.failure_window};
  settings.metrics_port = static_cast<uint16_t>(options.metrics_port);
  settings.metrics_bind = options.metrics_bind;
  settings.pipeline = MakePipelineSettings(options.pipeline, settings.nodename);
  Status st = ParseSerializer(options.result_serializer, "--result-serializer",
                              &settings.results.serializer);
  if (st.ok())
    st = ParseSerializerList(options.result_accept_content, "--result-accept-content",
                             &settings.results.accept);
  if (st.ok())
    st = ParseSerializer(options.task_serializer, "--task-serializer", &settings.task_serializer);
  if (st.ok()) st = MakeQueues(options, &settings.queues);
  if (st.ok()) {
    // --group adds its queues (in place of the default one without -Q).
    std::vector<std::string> names;
    for (const auto& q : settings.queues) names.push_back(q.name);
    Json arguments = settings.queues.empty() ? Json::object() : settings.queues[0].arguments;
    st =
        MakeLifecycleSettings(options.lifecycle, options.queues_given, &names, &settings.lifecycle);
    settings.queues.clear();
    for (const auto& name : names) settings.queues.push_back({name, arguments});
  }
  AmqpUrl url;
  if (st.ok()) st = ParseAmqpUrl(settings.broker_url, &url).WithPrefix("--broker");
  if (!st.ok()) {
    fmt::print(stderr, "verdi worker: {}\n", st.message());
    return 2;
  }
  if (options.print_config) {
    PrintConfig(settings);
    return 0;
  }
  std::unique_ptr<StatusReporter> reporter;
  st = MakeStatusReporter(options.pipeline, settings.nodename, &reporter);
  if (!st.ok()) {
    fmt::print(stderr, "verdi worker: {}\n", st.message());
    return 2;
  }
  std::unique_ptr<HysdsKeys> keys;
  if (!options.pipeline.status_url.empty()) {
    st = HysdsKeys::Make(options.pipeline.status_url, &keys).WithPrefix("--redis-job-status-url");
    if (!st.ok()) {
      fmt::print(stderr, "verdi worker: {}\n", st.message());
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

}  // namespace

void AddWorkerCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<WorkerOptions>();
  CLI::App* cmd = app->add_subcommand(
      "worker",
      "Consume hysds.job_worker.run_job tasks from RabbitMQ as a Celery worker and run each\n"
      "job as run_job does. SIGTERM/SIGINT: warm shutdown (jobs finish, up to\n"
      "--shutdown-timeout); a second one, or SIGQUIT: cold shutdown (jobs stopped, requeued).\n"
      "Exit codes: 0 after a shutdown (or --exit-when-idle, --exit-after-num-runs), 2 for\n"
      "bad settings, 3 after job-drain protection stopped the worker (more than\n"
      "--failure-threshold jobs failed in a row, fast), 4 after --exit-on-exception.");
  AddBrokerFlags(cmd, &options->broker);
  cmd->add_option("--result-backend", options->result_backend,
                  "redis://[:password@]host:port/db, rediss://..., rpc://, or empty for none")
      ->envname("CELERY_RESULT_BACKEND");
  cmd->add_option("--result-expires", options->result_expires, "Seconds results are kept")
      ->capture_default_str();
  cmd->add_option("--result-serializer", options->result_serializer,
                  "How results are written: json or msgpack (pickle is refused)")
      ->capture_default_str();
  cmd->add_option("--result-accept-content", options->result_accept_content,
                  "Stored results read back (redelivery dedup): json, msgpack, comma-separated")
      ->capture_default_str();
  cmd->add_option("--task-serializer", options->task_serializer,
                  "How remote-control replies are written: json or msgpack")
      ->capture_default_str();
  cmd->add_option("-Q,--queues", options->queues, "Queues to consume, comma-separated")
      ->capture_default_str();
  cmd->add_option("-n,--hostname", options->nodename, "Node name (%h host, %n name, %d domain)")
      ->capture_default_str();
  cmd->add_option("-c,--concurrency", options->concurrency, "Job slots (jobs run at once)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--prefetch-multiplier", options->prefetch_multiplier,
                  "basic.qos = concurrency x this; 0: unlimited")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_flag("--acks-early", options->acks_early,
                "Ack when a job starts instead of when it ends (a crash then loses the job)");
  cmd->add_flag("--no-track-started", options->no_track_started, "Do not store STARTED");
  cmd->add_flag("-E,--task-events", options->task_events,
                "Send task-* events (on by default for run_job, as HySDS configures Celery)");
  cmd->add_flag("--without-task-events", options->without_task_events,
                "Send only worker-* events and heartbeats");
  cmd->add_option("--heartbeat-interval", options->heartbeat_interval,
                  "Seconds between worker-heartbeat events")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--max-priority", options->max_priority,
                  "Declare queues with x-max-priority (task_queue_max_priority)");
  cmd->add_option("--queue-arg", options->queue_args,
                  "Another queue argument KEY=VALUE, e.g. x-queue-type=classic (repeatable)");
  cmd->add_option("--shutdown-timeout", options->shutdown_timeout,
                  "Seconds a warm shutdown waits for running jobs")
      ->capture_default_str();
  cmd->add_option("--max-message-size", options->max_message_size,
                  "Largest task message body accepted, in bytes (after decompression too)")
      ->capture_default_str();
  cmd->add_flag("--print-config", options->print_config,
                "Print the settings in force (secrets redacted) and exit");
  cmd->add_option("--failure-threshold", options->failure_threshold,
                  "Job-drain protection: stop (exit 3) when more than this many jobs fail in a\n"
                  "row at >= threshold/--failure-window failures per second")
      ->envname("WORKER_CONTIGUOUS_FAILURE_THRESHOLD")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--failure-window", options->failure_window,
                  "Job-drain protection: seconds of the failure rate (see --failure-threshold)")
      ->envname("WORKER_CONTIGUOUS_FAILURE_TIME")
      ->check(CLI::Range(0.001, 1e9))
      ->capture_default_str();
  cmd->add_option("--metrics-port", options->metrics_port,
                  "Serve Prometheus metrics on http://<--metrics-bind>:PORT/metrics; 0: off")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--metrics-bind", options->metrics_bind,
                  "IPv4 address the metrics endpoint listens on (127.0.0.1: this host only)")
      ->capture_default_str();
  AddPipelineFlags(cmd, &options->pipeline);
  AddLifecycleFlags(cmd, &options->lifecycle);
  cmd->add_option("--config", options->config_file,
                  "Settings file: a celeryconfig.py of plain assignments (broker_url,\n"
                  "result_backend, task_acks_late, ROOT_WORK_DIR, ...) or the same keys in JSON;\n"
                  "flags and environment variables win over it")
      ->envname("HYSDS_CELERY_CFG");
  cmd->callback([cmd, options, exit_code] {
    options->queues_given = cmd->get_option("--queues")->count() > 0;
    if (!options->config_file.empty()) {
      if (Status st = ApplyConfigFile(cmd, options->config_file); !st.ok()) {
        fmt::print(stderr, "verdi worker: {}\n", st.message());
        *exit_code = 2;
        return;
      }
    }
    *exit_code = RunWorkerCommand(*options);
  });
}

}  // namespace verdi
