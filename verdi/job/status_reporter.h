// HySDS statuses and job metrics of every job, to Redis: what HySDS dashboards (Figaro, via
// Logstash) show.
#pragma once

#include <memory>
#include <string>

#include "events/job_status_doc.h"
#include "events/status_sink.h"
#include "verdi/job/pipeline.h"

namespace verdi {

/// A JobObserver that sends job-started and the final status (job-completed,
/// job-failed, job-terminated, ...) as HySDS status documents, and the
/// job_info metrics document at the end, through a StatusSink. The final
/// status carries the job's `_alt_error.txt`, `_alt_traceback.txt`,
/// `_alt_msg.txt` and `_alt_msg_details.txt` when it left them.
class StatusReporter : public JobObserver {
 public:
  StatusReporter(std::unique_ptr<StatusSink> sink, std::string celery_hostname)
      : sink_(std::move(sink)), hostname_(std::move(celery_hostname)) {}

  void Started(const Json& job) override;
  void Finished(const Json& job, const JobOutcome& outcome) override;

  /// A status outside a job run (job-deduped, job-revoked, ...).
  void Report(const Json& job, const std::string& status, const StatusDetails& details);

  StatusSink* sink() { return sink_.get(); }

 private:
  std::unique_ptr<StatusSink> sink_;
  std::string hostname_;
};

/// Reads what a job left in `job_dir` for its final status (HySDS's _alt_*
/// files) into `details`: _alt_msg and _alt_msg_details always, and with
/// `failed` _alt_error and _alt_traceback, replacing the error and traceback
/// when present (HySDS reads those two on failure only).
void ApplyAltFiles(const std::string& job_dir, bool failed, StatusDetails* details);

/// The details of a job's final status as HySDS's run_job sets them: the
/// outcome's error (made UTF-8) and signal; on failure the job's
/// `_alt_error.txt` and `_alt_traceback.txt` in place of the error and the
/// traceback; `_alt_msg.txt` and `_alt_msg_details.txt` always. The same
/// error is what the task's FAILURE carries.
StatusDetails FinalStatusDetails(const JobOutcome& outcome);

}  // namespace verdi
