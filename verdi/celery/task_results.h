// Where the states of tasks go (Celery's result_backend): a Redis backend,
// the rpc:// reply queues, or nowhere.
#pragma once

#include <memory>
#include <string>

#include "jobspec/json_field.h"
#include "verdi/amqp/outbox.h"
#include "verdi/celery/result_document.h"
#include "verdi/celery/task_message.h"

namespace verdi {

/// Records task states so that Python's AsyncResult sees them. Thread-safe.
class TaskResults {
 public:
  virtual ~TaskResults() = default;
  /// Stores `state` (STARTED, SUCCESS, FAILURE, REVOKED) with its result
  /// (the return value, an exception dict, or {pid, hostname} for STARTED)
  /// and its traceback (a string for a FAILURE, else null), retrying as the
  /// backend does. A failure is logged and returned, never thrown: the
  /// caller decides what becomes of the task's message.
  virtual Status Store(const TaskMessage& task, const std::string& state, const Json& result,
                       const Json& traceback) = 0;
  /// Store with one try only, for a caller that retries on its own; not
  /// counted in failures().
  virtual Status StoreOnce(const TaskMessage& task, const std::string& state, const Json& result,
                           const Json& traceback) {
    return Store(task, state, result, traceback);
  }
  /// The state stored for a task, "" when none (or when this backend cannot
  /// read states back, as rpc:// cannot, or when what is stored cannot be
  /// read: a serializer result_accept_content refuses, garbage).
  virtual std::string StoredState(const std::string& task_id) = 0;
  /// How many Store calls failed after the backend's retries.
  virtual uint64_t failures() const { return 0; }
};

/// From a result_backend setting: "" or "disabled" (nothing is stored),
/// redis://… or rediss://… (results kept `expires_seconds`), rpc:// (states
/// published to each task's reply_to through `outbox`). Documents are
/// written in `format.serializer`; stored ones are read as `format.accept`
/// allows.
Status MakeTaskResults(const std::string& url, int64_t expires_seconds, const ResultFormat& format,
                       Outbox* outbox, std::unique_ptr<TaskResults>* out);

/// Celery's terminal states: SUCCESS, FAILURE, REVOKED.
bool IsReadyState(const std::string& state);

}  // namespace verdi
