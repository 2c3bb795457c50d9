#include "verdi/manager/backend_kubernetes.h"

#include <optional>

#include <fmt/format.h>

#include "base/log.h"
#include "base/redact.h"
#include "verdi/process/command_output.h"

namespace verdi {
namespace {

constexpr std::chrono::seconds kTimeout{60};
// verdi worker's --shutdown-timeout when its arguments give none.
constexpr int kShutdownTimeout = 600;

// The value of `flag` in a worker's arguments ("--flag V" or "--flag=V"), or
// nullopt.
std::optional<std::string> FlagValue(const std::vector<std::string>& args,
                                     const std::string& flag) {
  std::optional<std::string> value;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag && i + 1 < args.size())
      value = args[++i];
    else if (args[i].rfind(flag + "=", 0) == 0)
      value = args[i].substr(flag.size() + 1);
  }
  return value;
}

int IntFlag(const std::vector<std::string>& args, const std::string& flag, int fallback) {
  std::optional<std::string> value = FlagValue(args, flag);
  if (!value) return fallback;
  try {
    return std::stoi(*value);
  } catch (const std::exception&) {
    return fallback;  // the worker itself refuses it, with its message
  }
}

Json HttpProbe(const std::string& path, int period_seconds, int failure_threshold) {
  return {{"httpGet", {{"path", path}, {"port", "metrics"}}},
          {"periodSeconds", period_seconds},
          {"timeoutSeconds", 5},
          {"failureThreshold", failure_threshold}};
}

}  // namespace

Json KubernetesJobManifest(const KubernetesOptions& options, const WorkerLaunch& launch) {
  Json labels = {{"app.kubernetes.io/managed-by", "verdi-manager"},
                 {"verdi-manager", options.label},
                 {"verdi-worker", launch.name}};
  Json command = Json::array({options.verdi_path, "worker"});
  for (const auto& a : launch.args) command.push_back(a);
  int metrics_port = IntFlag(launch.args, "--metrics-port", 0);
  if (metrics_port == 0) {
    metrics_port = options.metrics_port;
    command.push_back("--metrics-port");
    command.push_back(std::to_string(metrics_port));
  }
  int grace = IntFlag(launch.args, "--shutdown-timeout", kShutdownTimeout) + 60;
  Json env = Json::array();
  for (const auto& [k, v] : launch.env) {
    if (k == "CELERY_BROKER_URL" && !options.broker_secret.empty())
      env.push_back(
          {{"name", k},
           {"valueFrom",
            {{"secretKeyRef", {{"name", options.broker_secret}, {"key", "broker_url"}}}}}});
    else
      env.push_back({{"name", k}, {"value", v}});
  }
  Json container = {
      {"name", "verdi-worker"},
      {"image", options.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", command},
      {"env", env},
      {"ports", Json::array({{{"name", "metrics"}, {"containerPort", metrics_port}}})},
      {"livenessProbe", HttpProbe("/healthz", 10, 3)},
      {"readinessProbe", HttpProbe("/readyz", 5, 2)}};
  Json resources = Json::object();
  if (!options.cpu.empty()) resources["cpu"] = options.cpu;
  if (!options.memory.empty()) resources["memory"] = options.memory;
  if (!resources.empty()) container["resources"] = {{"requests", resources}, {"limits", resources}};
  Json metadata = {{"name", launch.name}, {"labels", labels}};
  if (!options.namespace_.empty()) metadata["namespace"] = options.namespace_;
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", metadata},
          {"spec",
           {{"backoffLimit", 0},
            {"ttlSecondsAfterFinished", options.ttl_seconds_after_finished},
            {"template",
             {{"metadata", {{"labels", labels}}},
              {"spec",
               {{"restartPolicy", "Never"},
                {"terminationGracePeriodSeconds", grace},
                {"shareProcessNamespace", true},
                {"containers", Json::array({container})}}}}}}}};
}

Status ParsePodList(const Json& list, std::vector<WorkerJob>* workers) {
  workers->clear();
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array())
    return Status::Invalid("kubectl get pods: expected a List with items, got " +
                           DescribeJson(list));
  for (const Json& pod : list["items"]) {
    const Json* name = FindPath(pod, {"metadata", "name"});
    const Json* phase = FindPath(pod, {"status", "phase"});
    std::string p = phase != nullptr && phase->is_string() ? phase->get<std::string>() : "Pending";
    std::string n = name != nullptr && name->is_string() ? name->get<std::string>() : "?";
    if (p == "Pending")
      workers->push_back({n, false});
    else if (p == "Running")
      workers->push_back({n, true});
  }
  return Status::OK();
}

std::vector<std::string> KubernetesBackend::Kubectl(std::vector<std::string> args) const {
  std::vector<std::string> argv = {options_.kubectl};
  if (!options_.namespace_.empty()) argv.insert(argv.end(), {"--namespace", options_.namespace_});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Status KubernetesBackend::ListWorkers(std::vector<WorkerJob>* workers) {
  std::vector<std::string> argv =
      Kubectl({"get", "pods", "--selector", "verdi-manager=" + options_.label, "--output", "json"});
  CommandOutput out;
  VERDI_RETURN_IF_ERROR(RunCommandOutput(argv, "", kTimeout, &out));
  if (out.timed_out || out.exit_code != 0) return Status::Failed(DescribeFailure(argv, out));
  Json list = Json::parse(out.out, nullptr, false);
  return ParsePodList(list, workers);
}

Status KubernetesBackend::StartWorker(const WorkerLaunch& launch) {
  std::vector<std::string> argv = Kubectl({"apply", "--filename", "-"});
  CommandOutput out;
  VERDI_RETURN_IF_ERROR(
      RunCommandOutput(argv, KubernetesJobManifest(options_, launch).dump(), kTimeout, &out));
  if (out.timed_out || out.exit_code != 0) return Status::Failed(DescribeFailure(argv, out));
  LogInfo("manager: worker {} is Kubernetes Job {}", launch.name, launch.name);
  return Status::OK();
}

std::string KubernetesBackend::Describe(const WorkerLaunch& launch) {
  WorkerLaunch shown = launch;
  for (auto& [k, v] : shown.env) v = RedactEnvValue(k, v);
  return KubernetesJobManifest(options_, shown).dump(2);
}

}  // namespace verdi
