// The terminal results (SUCCESS, FAILURE, REVOKED) that the result backend
// would not take even after its retries (Redis down, or refusing writes).
// Acking such a task would leave it STARTED (or PENDING) forever for every
// client, so its message is not acked: it stays with the broker, unacked, as
// the message of a worker that died would. The result is kept here and in a
// file of its own under the work root, stored again in the background with a
// capped backoff, and only once it is stored is the message acked (or, for a
// refused message, rejected). A copy of the message the broker delivers
// again meanwhile (a reconnect, a consumer timeout, or the next life of the
// worker on this node, which finds the file) is never run: the kept result
// is stored and that copy acked instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "jobspec/json_field.h"
#include "verdi/amqp/outbox.h"
#include "verdi/celery/task_message.h"
#include "verdi/celery/task_results.h"
#include "verdi/worker/ack_target.h"
#include "verdi/worker/task_claims.h"

namespace verdi {

class UnstoredResults {
 public:
  struct Options {
    /// Where each kept result is also written, as `<task id>.json` (created
    /// when first needed); empty: kept in memory only.
    std::filesystem::path dir;
    /// The wait before the first new try, doubled after each failed round
    /// up to max_retry.
    std::chrono::milliseconds first_retry{1000};
    std::chrono::milliseconds max_retry{10000};
    /// The claims of the tasks whose results are kept: held (another
    /// worker given the task meanwhile waits instead of running it again)
    /// and released once the result is stored. May be null.
    TaskClaims* claims = nullptr;
  };

  /// Starts the thread that stores what is kept through `results` and
  /// acks through `outbox`.
  UnstoredResults(TaskResults* results, Outbox* outbox, Options options);
  /// Stops that thread (a try under way ends first). What is still kept
  /// stays unacked, so the broker delivers it again, and stays on disk.
  ~UnstoredResults();
  UnstoredResults(const UnstoredResults&) = delete;
  UnstoredResults& operator=(const UnstoredResults&) = delete;

  /// `state`, `result` and `traceback` of `task` could not be stored: kept until they
  /// are, then the delivery `ack` holds then is acked (rejected without
  /// requeue when `reject`); `ack` null: nothing to ack (acked early).
  /// Keeping a task kept already replaces what was kept for it.
  void Keep(const TaskMessage& task, const std::string& state, const Json& result,
            const Json& traceback, std::shared_ptr<AckTarget> ack, bool reject);

  /// When the result of `task` is kept here, or was kept on disk by an
  /// earlier life of a worker with the same work root: `delivery` (a copy
  /// the broker delivered again) becomes the one acked once the result is
  /// stored, a new try is made at once, and true is returned: the task must
  /// not run again.
  bool Adopt(const TaskMessage& task, const TaskDelivery& delivery);

  /// How many results are kept (each holds an unacked message).
  size_t size() const;

 private:
  struct Kept {
    TaskMessage task;  // only what a result document uses (id, group, parent)
    std::string state;
    Json result;
    Json traceback;
    std::shared_ptr<AckTarget> ack;
    bool reject = false;
    uint64_t generation = 0;  // which Keep (or Adopt) made it
  };

  void Loop();
  // The file of `task_id`, or empty when the id cannot name a file.
  std::filesystem::path FileOf(const std::string& task_id) const;
  void Write(const Kept& kept) const;
  bool Read(const TaskMessage& task, Kept* kept) const;
  void Remove(const std::string& task_id) const;

  TaskResults* const results_;
  Outbox* const outbox_;
  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Kept> kept_;  // by task id, under mu_
  std::chrono::steady_clock::time_point next_try_;
  std::chrono::milliseconds backoff_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace verdi
