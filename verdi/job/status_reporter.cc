#include "verdi/job/status_reporter.h"

#include "events/job_status_doc.h"
#include "jobspec/job_status.h"
#include "verdi/celery/task_message.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace {

constexpr size_t kMaxAltFile = 1 << 20;

// Documents are msgpack for Python readers: every string must be UTF-8.
std::string ValidUtf8(const std::string& text) {
  if (IsValidUtf8(text)) return text;
  return Json::parse(Json(text).dump(-1, ' ', false, Json::error_handler_t::replace))
      .get<std::string>();
}

std::optional<std::string> AltFile(const std::string& job_dir, const char* name) {
  std::optional<std::string> text = ReadSmallFile(fs::path(job_dir) / name, kMaxAltFile);
  if (!text) return std::nullopt;
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  return ValidUtf8(*text);
}

}  // namespace

void ApplyAltFiles(const std::string& job_dir, bool failed, StatusDetails* details) {
  if (job_dir.empty()) return;
  if (failed) {
    if (auto error = AltFile(job_dir, "_alt_error.txt")) details->error = *error;
    if (auto traceback = AltFile(job_dir, "_alt_traceback.txt")) details->traceback = *traceback;
  }
  if (auto msg = AltFile(job_dir, "_alt_msg.txt")) {
    size_t start = 0;
    while (start <= msg->size()) {
      size_t end = msg->find('\n', start);
      if (end == std::string::npos) end = msg->size();
      details->msg.push_back(ShortError(msg->substr(start, end - start)));
      start = end + 1;
    }
  }
  if (auto msg_details = AltFile(job_dir, "_alt_msg_details.txt"))
    details->msg_details = *msg_details;
}

void StatusReporter::Started(const Json& job) { Report(job, kJobStarted, {}); }

StatusDetails FinalStatusDetails(const JobOutcome& outcome) {
  StatusDetails details;
  details.error = ValidUtf8(outcome.error);
  details.traceback = ValidUtf8(outcome.traceback);
  if (outcome.signum != 0) details.signum = outcome.signum;
  details.dedup_job = outcome.dedup_job;
  details.dedup_msg = outcome.dedup_msg;
  if (!outcome.job_dir.empty()) {
    // HySDS applies the _alt_error/_traceback files on failure only, the
    // _alt_msg files always.
    StatusDetails alt;
    ApplyAltFiles(outcome.job_dir.string(), !outcome.completed(), &alt);
    if (!outcome.completed()) {
      if (!alt.error.empty()) details.error = alt.error;
      if (!alt.traceback.empty()) details.traceback = alt.traceback;
    }
    details.msg = std::move(alt.msg);
    details.msg_details = std::move(alt.msg_details);
  }
  return details;
}

void StatusReporter::Finished(const Json& job, const JobOutcome& outcome) {
  Report(job, outcome.status, FinalStatusDetails(outcome));
  sink_->LogJobInfo(JobInfoDocument(job, WallClock::now()));
}

void StatusReporter::Report(const Json& job, const std::string& status,
                            const StatusDetails& details) {
  sink_->LogJobStatus(JobStatusDocument(job, status, hostname_, details, WallClock::now()),
                      StatusTtlSeconds(job));
}

}  // namespace verdi
