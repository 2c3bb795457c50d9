// Which worker runs a task now, agreed on through the status Redis by every
// worker that shares it: a redelivered task (its worker lost the broker, or
// died) is not started while the run that holds it is alive, and is run
// once that run is gone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "verdi/worker/hysds_keys.h"

namespace verdi {

/// verdi-task-claim-<task id> = "<nodename> <host> <pid>", set when a run
/// starts (SET NX with a TTL), renewed while it runs, removed when it ends.
/// A claim whose worker died expires after `ttl`, or at once when that
/// worker ran on this host (its pid is gone). Thread-safe.
class TaskClaims {
 public:
  enum class Result {
    kClaimed,    // this worker runs it now
    kHeld,       // another live run holds it
    kNoBackend,  // Redis cannot say: run it (as without claims), logged by keys
  };

  TaskClaims(HysdsKeys* keys, std::string nodename,
             std::chrono::milliseconds ttl = std::chrono::seconds(30));
  ~TaskClaims();  // releases nothing: a claim left by a stopped worker expires

  /// Claims `task_id` for this worker; *holder tells who holds it on kHeld.
  Result Claim(const std::string& task_id, std::string* holder);
  /// Ends this worker's claim (only if it still holds it).
  void Release(const std::string& task_id);

  const std::string& self() const { return self_; }

 private:
  bool HolderIsDeadHere(const std::string& holder) const;
  bool StillHeld(const std::string& task_id);
  void RenewLoop();

  HysdsKeys* keys_;
  std::string self_, host_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::set<std::string> held_;
  bool stopping_ = false;
  std::thread renewer_;
};

}  // namespace verdi
