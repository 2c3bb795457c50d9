// The job statuses HySDS records, and the rules that derive them.
#pragma once

#include <string>

namespace verdi {

inline constexpr const char* kJobStarted = "job-started";
inline constexpr const char* kJobCompleted = "job-completed";
inline constexpr const char* kJobFailed = "job-failed";
inline constexpr const char* kJobDeduped = "job-deduped";
inline constexpr const char* kJobRevoked = "job-revoked";

/// HySDS's error of a revoked job (task_revoked_handler): "Job was revoked
/// with signal N." (0: revoked before it ran).
std::string RevokedError(int signum);

/// HySDS's error of a job stopped by its soft time limit: str() of Celery's
/// SoftTimeLimitExceeded, "SoftTimeLimitExceeded()".
inline constexpr const char* kSoftTimeLimitError = "SoftTimeLimitExceeded()";

/// The status of a job ended by a signal caught by the worker:
/// job-hangup (1), job-interrupted (2), job-quit (3), job-aborted (6),
/// job-killed (9), job-terminated (15), else job-sig-<n>.
std::string SignalStatus(int signum);

/// HySDS's short_error: the message when it has at most 35 characters, else
/// its first 20, ".....", and its last 10 (characters, not bytes).
std::string ShortError(const std::string& error);

}  // namespace verdi
