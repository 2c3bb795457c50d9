#include "verdi/worker/drain_guard.h"

#include <unistd.h>

#include <system_error>

#include "base/files.h"
#include "base/log.h"
#include "events/status_sink.h"
#include "jobspec/job_status.h"
#include "jobspec/json_field.h"

namespace verdi {
namespace {

double UnixSeconds(WallClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

bool JobDrain::Record(const std::string& status, WallClock::time_point now) {
  if (status == kJobCompleted || status == "job-deduped") {
    count_ = 0;
    return false;
  }
  if (status != kJobFailed) return false;
  if (count_ == 0) start_ = now;
  ++count_;
  if (count_ <= settings_.threshold) return false;
  double elapsed = SecondsBetween(start_, now);
  double limit = settings_.threshold / settings_.window_seconds;
  return elapsed <= 0 || count_ / elapsed >= limit;
}

JobDrainGuard::JobDrainGuard(JobDrainSettings settings, fs::path root_work_dir,
                             std::string hostname, StatusSink* sink,
                             std::function<WallClock::time_point()> now)
    : drain_(settings),
      settings_(settings),
      file_(root_work_dir / "workers" / (hostname + ".failures.json")),
      hostname_(std::move(hostname)),
      sink_(sink),
      now_(std::move(now)) {}

bool JobDrainGuard::Record(const std::string& status) {
  std::lock_guard<std::mutex> lock(mu_);
  int before = drain_.count();
  bool triggered = drain_.Record(status, now_());
  std::error_code ec;
  if (drain_.count() == 0) {
    if (before > 0) fs::remove(file_, ec);
    return false;
  }
  Json record = {{"count", drain_.count()},
                 {"starttime", UnixSeconds(drain_.starttime())},
                 {"pid", static_cast<int>(getpid())}};
  if (!triggered) {
    if (drain_.count() == before) return false;
    fs::create_directories(file_.parent_path(), ec);
    Status st = WriteFileAtomic(file_.string(), record.dump());
    if (!st.ok()) LogWarning("job-drain file: {}", st.message());
    return false;
  }
  fs::remove(file_, ec);
  LogError(
      "{}: job drain detected: {} jobs failed in a row in {:.1f} s (threshold {} in {} s); "
      "taking no more jobs",
      hostname_, drain_.count(), SecondsBetween(drain_.starttime(), now_()), settings_.threshold,
      settings_.window_seconds);
  if (sink_ != nullptr) {
    Json event = record;
    event["celery_hostname"] = hostname_;
    sink_->LogCustomEvent("worker_anomaly", "job_drain", event);
  }
  return true;
}

}  // namespace verdi
