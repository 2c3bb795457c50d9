#include "verdi/manager/manager.h"

#include <poll.h>

#include <fmt/format.h>

#include "base/log.h"
#include "base/redact.h"
#include "jobspec/uuid.h"
#include "verdi/amqp/url.h"

namespace verdi {

ManagerDecision DecideLaunch(const ManagerRules& rules, const ManagerView& view) {
  ManagerDecision d;
  if (view.waiting_jobs > 0) {
    d.launch = true;
    d.why = fmt::format("launch: {} jobs waiting", view.waiting_jobs);
    if (view.since_last_launch && *view.since_last_launch < rules.min_seconds_between_workers) {
      d.launch = false;
      d.why = fmt::format("don't launch: {:.1f} s < {} s since the last worker",
                          *view.since_last_launch, rules.min_seconds_between_workers);
    } else if (view.pending_workers >= view.waiting_jobs) {
      d.launch = false;
      d.why = fmt::format("don't launch: {} pending workers for {} waiting jobs",
                          view.pending_workers, view.waiting_jobs);
    } else if (view.workers >= rules.max_workers) {
      d.launch = false;
      d.why =
          fmt::format("don't launch: {} workers already (max {})", view.workers, rules.max_workers);
    }
  } else {
    d.why = "no job waiting";
  }
  if (view.workers < rules.min_workers) {
    d.launch = true;
    d.why = fmt::format("launch: under the minimum ({} < {})", view.workers, rules.min_workers);
  }
  return d;
}

namespace {

using Clock = std::chrono::steady_clock;

class Manager {
 public:
  Manager(const ManagerSettings& settings, ManagerBackend* backend, Interrupts* signals)
      : s_(settings), backend_(backend), signals_(signals) {}

  int Run() {
    Status st = ParseAmqpUrl(s_.broker_url, &url_);
    if (!st.ok()) {
      LogError("manager: --broker: {}", st.message());
      return 2;
    }
    LogInfo(
        "manager ({}): queues {}, workers between {} and {}, at most one every {} s; "
        "broker {}",
        s_.backend_name, Joined(), s_.rules.min_workers, s_.rules.max_workers,
        s_.rules.min_seconds_between_workers, RedactUrls(s_.broker_url));
    for (;;) {
      st = Iterate();
      if (s_.once) {
        if (!st.ok()) LogError("manager: {}", st.message());
        break;
      }
      // Transient: the broker or the batch system did not answer; next time.
      if (!st.ok()) LogWarning("manager: {}; trying again in {} s", st.message(), Seconds());
      if (Sleep()) break;
    }
    link_.Close();
    LogInfo("manager stopped");
    // One iteration asked for (a probe, a cron line): its failure is the exit code.
    return s_.once && !st.ok() ? 1 : 0;
  }

 private:
  double Seconds() const { return s_.sleep_time.count() / 1000.0; }

  std::string Joined() const {
    std::string out;
    for (const auto& q : s_.queues) out += (out.empty() ? "" : ",") + q;
    return out;
  }

  // True when a signal asks the manager to stop.
  bool Sleep() {
    pollfd fd{signals_->fd(), POLLIN, 0};
    poll(&fd, 1, static_cast<int>(s_.sleep_time.count()));
    if (int sig = signals_->Take(); sig != 0) {
      LogInfo("manager: signal {}: stopping (the workers go on, and exit when idle)", sig);
      return true;
    }
    return false;
  }

  Status Iterate() {
    if (!link_.connected()) VERDI_RETURN_IF_ERROR(link_.Connect(url_, s_.broker_tls));
    ManagerView view;
    int64_t consumers = 0;
    for (const auto& q : s_.queues) {
      uint32_t messages = 0, queue_consumers = 0;
      bool exists = false;
      VERDI_RETURN_IF_ERROR(link_.InspectQueue(q, &messages, &queue_consumers, &exists));
      view.waiting_jobs += messages;
      consumers += queue_consumers;
    }
    std::vector<WorkerJob> workers;
    if (!s_.dry_run) VERDI_RETURN_IF_ERROR(backend_->ListWorkers(&workers));
    view.workers = static_cast<int>(workers.size());
    for (const auto& w : workers) view.pending_workers += w.active ? 0 : 1;
    if (last_launch_)
      view.since_last_launch = std::chrono::duration<double>(Clock::now() - *last_launch_).count();
    ManagerDecision d = DecideLaunch(s_.rules, view);
    LogInfo(
        "manager: {} jobs waiting ({} consumers); {} workers ({} active, {} pending), "
        "min {}, max {}; {}",
        view.waiting_jobs, consumers, view.workers, view.workers - view.pending_workers,
        view.pending_workers, s_.rules.min_workers, s_.rules.max_workers, d.why);
    if (!d.launch) return Status::OK();
    WorkerLaunch launch = MakeLaunch();
    if (s_.dry_run) {
      fmt::print("{}\n", backend_->Describe(launch));
      std::fflush(stdout);
    } else {
      VERDI_RETURN_IF_ERROR(backend_->StartWorker(launch));
      LogInfo("manager: started worker {}", launch.name);
    }
    last_launch_ = Clock::now();
    return Status::OK();
  }

  WorkerLaunch MakeLaunch() const {
    WorkerLaunch launch;
    launch.name = fmt::format("verdi-{}-{}", s_.backend_name, NewUuid4().substr(0, 8));
    launch.args = s_.worker_args;
    if (!s_.broker_tls.ca_file.empty())
      launch.args.insert(launch.args.end(), {"--broker-ca", s_.broker_tls.ca_file});
    if (!s_.broker_tls.cert_file.empty())
      launch.args.insert(launch.args.end(), {"--broker-cert", s_.broker_tls.cert_file});
    if (!s_.broker_tls.key_file.empty())
      launch.args.insert(launch.args.end(), {"--broker-key", s_.broker_tls.key_file});
    if (!s_.broker_tls.verify_peer) launch.args.push_back("--broker-no-verify");
    launch.args.insert(launch.args.end(),
                       {"-Q", Joined(), "-n", launch.name + "@%h", "--exit-when-idle",
                        "--idle-seconds", fmt::format("{}", s_.worker_idle_seconds)});
    launch.env.emplace_back("CELERY_BROKER_URL", s_.broker_url);
    return launch;
  }

  const ManagerSettings& s_;
  ManagerBackend* backend_;
  Interrupts* signals_;
  AmqpUrl url_;
  AmqpLink link_;
  std::optional<Clock::time_point> last_launch_;
};

}  // namespace

int RunManager(const ManagerSettings& settings, ManagerBackend* backend, Interrupts* signals) {
  return Manager(settings, backend, signals).Run();
}

}  // namespace verdi
