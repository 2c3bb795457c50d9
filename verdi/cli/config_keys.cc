#include "verdi/cli/config_keys.h"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <set>

#include <fmt/format.h>

namespace verdi {
namespace {

// How a file's value becomes the text of its flag.
enum class Kind {
  kValue,     // a string, number or boolean as it is
  kInverted,  // True or False, the flag meaning the opposite
  kWords,     // a list of strings (or one string), space separated
  kJson,      // anything, as JSON text
};

struct ConfigKey {
  const char* key;
  const char* flag;
  Kind kind = Kind::kValue;
};

// Celery's settings and HySDS's keys that `verdi worker` reads.
const ConfigKey kConfigKeys[] = {
    {"broker_url", "--broker"},
    {"broker_heartbeat", "--broker-heartbeat"},
    {"broker_connection_timeout", "--broker-connection-timeout"},
    {"result_backend", "--result-backend"},
    {"result_expires", "--result-expires"},
    {"result_serializer", "--result-serializer"},
    {"result_accept_content", "--result-accept-content", Kind::kWords},
    {"task_serializer", "--task-serializer"},
    // Celery reads result_accept_content, else accept_content.
    {"accept_content", "--result-accept-content", Kind::kWords},
    {"worker_concurrency", "--concurrency"},
    {"worker_prefetch_multiplier", "--prefetch-multiplier"},
    {"worker_pool", "--pool"},
    {"worker_max_tasks_per_child", "--max-tasks-per-child"},
    {"worker_state_db", "--statedb"},
    {"task_time_limit", "--time-limit"},
    {"task_soft_time_limit", "--soft-time-limit"},
    {"task_acks_late", "--acks-early", Kind::kInverted},
    {"task_track_started", "--no-track-started", Kind::kInverted},
    {"worker_send_task_events", "--without-task-events", Kind::kInverted},
    {"task_queue_max_priority", "--max-priority"},
    {"worker_metrics_port", "--metrics-port"},
    // Not Celery's worker_log_format, a Python logging format string.
    {"verdi_log_format", "--log-format"},
    {"HARD_TIME_LIMIT_GAP", "--hard-time-limit-gap"},
    {"ROOT_WORK_DIR", "--root-work-dir"},
    {"WEBDAV_URL", "--webdav-url"},
    {"WEBDAV_PORT", "--webdav-port"},
    {"EVICT_CACHE", "--evict-cache"},
    {"GRQ_UPDATE_URL_BULK", "--grq-update-url-bulk"},
    {"BACKOFF_MAX_TRIES", "--backoff-max-tries"},
    {"TRIAGE_PARTITION_FORMAT", "--triage-partition-format"},
    {"JOBS_ES_URL", "--jobs-es-url", Kind::kWords},
    {"JOBS_AWS_ES", "--jobs-aws-es"},
    {"REDIS_JOB_STATUS_URL", "--redis-job-status-url"},
    {"REDIS_JOB_STATUS_KEY", "--redis-job-status-key"},
    {"REDIS_JOB_INFO_URL", "--redis-job-info-url"},
    {"REDIS_JOB_INFO_KEY", "--redis-job-info-key"},
    {"WORKER_CONTIGUOUS_FAILURE_THRESHOLD", "--failure-threshold"},
    {"WORKER_CONTIGUOUS_FAILURE_TIME", "--failure-window"},
    {"USER_RULES_JOB_QUEUE", "--user-rules-job-queue"},
    {"DATASET_PROCESSED_QUEUE", "--dataset-processed-queue"},
    {"worker_late_status_watch", "--late-status-watch"},
    {"CONTAINER_ENGINE", "--container-engine"},
    {"CONTAINER_REGISTRY", "--container-registry"},
    {"WORKER_MOUNT_BLACKLIST", "--worker-mount-blacklist", Kind::kWords},
    {"CONTAINER_MOUNT_LAYOUT", "--container-mount-layout"},
    {"CONTAINER_ALLOWED_RUNTIME_OPTIONS", "--container-allowed-runtime-options", Kind::kWords},
    {"CACHE_READ_ONLY", "--cache-read-only"},
    {"BUCKET_PROFILES", "--bucket-profiles", Kind::kJson},
};

// A number as a flag takes it: an integral float without its ".0", so that
// `result_expires = timedelta(days=1)` fills an integer flag.
std::string NumberText(const Json& value) {
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::floor(d) == d && std::abs(d) < 9e15) return std::to_string(static_cast<int64_t>(d));
  }
  return value.dump();
}

class Applier {
 public:
  Applier(const ConfigFile& file, CLI::App* cmd, WorkerFlags* flags, SettingSources* sources,
          std::vector<std::string>* warnings)
      : file_(file), cmd_(cmd), flags_(flags), sources_(sources), warnings_(warnings) {}

  Status Run() {
    for (const auto& k : kConfigKeys) VERDI_RETURN_IF_ERROR(Apply(k));
    for (const auto& k : kLifecycleConfigKeys) VERDI_RETURN_IF_ERROR(Apply({k.key, k.flag}));
    VERDI_RETURN_IF_ERROR(BrokerUseSsl());
    VERDI_RETURN_IF_ERROR(Special("task_queues", [this](const Json& v) -> Status {
      if (!v.is_array() && !v.is_object() && !v.is_null())
        return Status::Invalid("expected a list of kombu Queue objects, got " + DescribeJson(v));
      flags_->task_queues = v;
      return Status::OK();
    }));
    for (auto [key, field] :
         {std::pair{"task_default_queue", &flags_->default_queue},
          std::pair{"task_default_exchange", &flags_->default_exchange},
          std::pair{"task_default_exchange_type", &flags_->default_exchange_type},
          std::pair{"task_default_routing_key", &flags_->default_routing_key}}) {
      VERDI_RETURN_IF_ERROR(Special(key, [field](const Json& v) -> Status {
        if (!v.is_string()) return Status::Invalid("expected a string, got " + DescribeJson(v));
        *field = v.get<std::string>();
        return Status::OK();
      }));
    }
    VERDI_RETURN_IF_ERROR(Special("task_create_missing_queues", [this](const Json& v) -> Status {
      if (!v.is_boolean()) return Status::Invalid("expected True or False, got " + DescribeJson(v));
      flags_->create_missing_queues = v.get<bool>();
      return Status::OK();
    }));
    for (const auto& [name, entry] : file_.entries)
      if (!used_.count(name)) warnings_->push_back(file_.Where(name) + ": not used by verdi");
    for (const auto& note : file_.notes) warnings_->push_back(file_.path + ":" + note);
    return Status::OK();
  }

 private:
  // The entry of `key`, marked used; null when the file does not set it
  // (or sets it to None, Celery's "not set").
  const ConfigEntry* Take(const std::string& key, Status* st) {
    auto it = file_.entries.find(key);
    if (it == file_.entries.end()) return nullptr;
    used_.insert(key);
    if (!it->second.error.empty()) {
      *st = Status::Invalid(fmt::format("{}: {}", file_.Where(key), it->second.error));
      return nullptr;
    }
    return it->second.value.is_null() ? nullptr : &it->second;
  }

  // Gives `flag` the text of `key`'s value unless a flag or the environment
  // did.
  Status Fill(const std::string& key, const std::string& flag, const std::string& text) {
    CLI::Option* option = cmd_->get_option(flag);
    if (option->count() > 0) return Status::OK();
    option->add_result(text);
    try {
      option->run_callback();
    } catch (const CLI::Error& e) {
      return Status::Invalid(fmt::format("{}: {}", file_.Where(key), e.what()));
    }
    sources_->SetFile(option, file_.Where(key));
    return Status::OK();
  }

  Status Apply(const ConfigKey& k) {
    Status st;
    const ConfigEntry* e = Take(k.key, &st);
    if (e == nullptr) return st;
    const Json& v = e->value;
    auto wrong = [&](const char* expected) {
      return Status::Invalid(
          fmt::format("{}: expected {}, got {}", file_.Where(k.key), expected, DescribeJson(v)));
    };
    std::string text;
    switch (k.kind) {
      case Kind::kValue:
        if (v.is_boolean())
          text = v.get<bool>() ? "true" : "false";
        else if (v.is_string())
          text = v.get<std::string>();
        else if (v.is_number())
          text = NumberText(v);
        else
          return wrong("a string, a number, True or False");
        break;
      case Kind::kInverted:
        if (!v.is_boolean()) return wrong("True or False");
        text = v.get<bool>() ? "false" : "true";
        break;
      case Kind::kWords:
        if (v.is_string()) {
          text = v.get<std::string>();
          break;
        }
        if (!v.is_array()) return wrong("a list of strings");
        for (const Json& w : v) {
          if (!w.is_string()) return wrong("a list of strings");
          text += (text.empty() ? "" : " ") + w.get<std::string>();
        }
        break;
      case Kind::kJson:
        text = v.is_string() ? v.get<std::string>() : v.dump();
        break;
    }
    return Fill(k.key, k.flag, text);
  }

  Status Special(const std::string& key, const std::function<Status(const Json&)>& set) {
    Status st;
    const ConfigEntry* e = Take(key, &st);
    if (e == nullptr) return st;
    VERDI_RETURN_IF_ERROR(set(e->value).WithPrefix(file_.Where(key)));
    sources_->SetFile(key, file_.Where(key));
    return Status::OK();
  }

  // broker_use_ssl: True, or kombu's dict of ssl options.
  Status BrokerUseSsl() {
    const std::string key = "broker_use_ssl";
    Status st;
    const ConfigEntry* e = Take(key, &st);
    if (e == nullptr) return st;
    const Json& v = e->value;
    if (v.is_boolean()) return v.get<bool>() ? Fill(key, "--broker-use-ssl", "true") : st;
    if (!v.is_object())
      return Status::Invalid(
          fmt::format("{}: expected True, False or a dict of ssl options, got {}", file_.Where(key),
                      DescribeJson(v)));
    VERDI_RETURN_IF_ERROR(Fill(key, "--broker-use-ssl", "true"));
    for (const auto& [option, value] : v.items()) {
      std::string where = fmt::format("{}['{}']", file_.Where(key), option);
      const char* flag = option == "ca_certs"   ? "--broker-ca"
                         : option == "certfile" ? "--broker-cert"
                         : option == "keyfile"  ? "--broker-key"
                                                : nullptr;
      if (flag != nullptr) {
        if (!value.is_string())
          return Status::Invalid(
              fmt::format("{}: expected a file name, got {}", where, DescribeJson(value)));
        VERDI_RETURN_IF_ERROR(Fill(key, flag, value.get<std::string>()));
      } else if (option == "cert_reqs") {
        // ssl.CERT_NONE (0): no verification; CERT_OPTIONAL (1) and
        // CERT_REQUIRED (2): the certificate and the host name are verified.
        if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 2)
          return Status::Invalid(
              fmt::format("{}: expected ssl.CERT_NONE, ssl.CERT_OPTIONAL or "
                          "ssl.CERT_REQUIRED, got {}",
                          where, DescribeJson(value)));
        if (value.get<int64_t>() == 0)
          VERDI_RETURN_IF_ERROR(Fill(key, "--broker-no-verify", "true"));
      } else {
        warnings_->push_back(where + ": not used by verdi (OpenSSL's defaults apply)");
      }
    }
    return Status::OK();
  }

  const ConfigFile& file_;
  CLI::App* cmd_;
  WorkerFlags* flags_;
  SettingSources* sources_;
  std::vector<std::string>* warnings_;
  std::set<std::string> used_;
};

}  // namespace

std::string SettingSources::Of(const CLI::Option* option) const {
  if (auto it = options_.find(option); it != options_.end()) return "file " + it->second;
  if (option->count() == 0) return "default";
  std::string env = option->get_envname();
  if (!env.empty()) {
    const char* value = std::getenv(env.c_str());
    std::vector<std::string> results = option->results();
    if (value != nullptr && results.size() == 1 && results[0] == value) return "environment " + env;
  }
  return "flag";
}

std::string SettingSources::OfKey(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? "default" : "file " + it->second;
}

Status ApplyConfigFile(const ConfigFile& file, CLI::App* cmd, WorkerFlags* flags,
                       SettingSources* sources, std::vector<std::string>* warnings) {
  return Applier(file, cmd, flags, sources, warnings).Run();
}

}  // namespace verdi
