// `verdi manager --backend kubernetes`: each worker is a Kubernetes Job
// (one pod, never restarted) applied with kubectl, counted by its label.
#pragma once

#include <string>

#include "jobspec/json_field.h"
#include "verdi/manager/backend.h"

namespace verdi {

struct KubernetesOptions {
  std::string kubectl = "kubectl";
  std::string namespace_;  // empty: kubectl's current one
  /// The image holding verdi: by default the one scripts/image builds.
  std::string image = "localhost/verdi:" VERDI_VERSION;
  std::string verdi_path = "verdi";
  /// The value of the `verdi-manager` label on every Job and pod.
  std::string label = "verdi-worker";
  std::string cpu, memory;  // requests and limits, e.g. "1", "2Gi"
  /// A Secret with the key broker_url: the broker URL comes from it instead
  /// of a plain value in the manifest.
  std::string broker_secret;
  int ttl_seconds_after_finished = 600;
  /// The workers' --metrics-port (unless their arguments give one): the
  /// probes ask it for /healthz (liveness) and /readyz (readiness).
  int metrics_port = 9808;
};

/// The Job manifest of one worker (batch/v1 Job, backoffLimit 0,
/// restartPolicy Never): the worker serves its metrics port, probed for
/// liveness and readiness; the pod's grace period outlasts the worker's
/// warm shutdown (--shutdown-timeout + 60 s); the pod shares one process
/// namespace, so that its pause process reaps what jobs leave behind.
Json KubernetesJobManifest(const KubernetesOptions& options, const WorkerLaunch& launch);

/// Counts the pods of `kubectl get pods -o json`: Pending ones are pending,
/// Running ones active, others (Succeeded, Failed) left out.
Status ParsePodList(const Json& list, std::vector<WorkerJob>* workers);

class KubernetesBackend : public ManagerBackend {
 public:
  explicit KubernetesBackend(KubernetesOptions options) : options_(std::move(options)) {}
  Status ListWorkers(std::vector<WorkerJob>* workers) override;
  Status StartWorker(const WorkerLaunch& launch) override;
  std::string Describe(const WorkerLaunch& launch) override;

 private:
  std::vector<std::string> Kubectl(std::vector<std::string> args) const;
  KubernetesOptions options_;
};

}  // namespace verdi
