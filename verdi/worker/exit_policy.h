// When a worker stops by itself (seed 004, CodaLab's worker options): after
// being idle for a while, after a number of runs, or after an
// infrastructure error. The rules only; the worker acts on them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace verdi {

struct ExitPolicySettings {
  /// --exit-when-idle --idle-seconds N: stop after N with no job queued,
  /// running or held; counted from the first connection to the broker.
  std::optional<std::chrono::milliseconds> idle;
  /// --exit-after-num-runs N: take N jobs, then no more; stop once they end.
  /// 0: no limit.
  int64_t max_runs = 0;
  /// --exit-on-exception: an infrastructure error (the work root cannot be
  /// used, the broker gone past `reconnect_attempts` tries in a row, Redis
  /// refusing results or statuses past its retries) stops the worker. A job
  /// that fails is not one.
  bool exit_on_exception = false;
  int reconnect_attempts = 5;
};

/// RunWorker's exit code after --exit-on-exception stopped the worker.
inline constexpr int kInfrastructureErrorExitCode = 4;

/// The state behind those rules. Thread-safe.
class ExitPolicy {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ExitPolicy(ExitPolicySettings settings) : settings_(std::move(settings)) {}

  const ExitPolicySettings& settings() const { return settings_; }

  /// The broker connection is up: failed attempts counted from zero again.
  void Connected(Clock::time_point now);
  /// A connection attempt failed; true when, with exit_on_exception, that
  /// makes the broker gone (also recorded as the infrastructure error).
  bool ConnectFailed(const std::string& why);

  /// A job was taken; true when it is the last one max_runs allows.
  bool RunTaken();
  /// max_runs jobs have been taken.
  bool QuotaReached() const;

  /// Something happened that is not a job (--echo printed a message): the
  /// idle time starts again.
  void Touch(Clock::time_point now);
  /// Called with how many jobs are queued, running or held now; true when
  /// there has been none for `idle` (never before the first connection).
  bool IdleLongEnough(size_t busy, Clock::time_point now);

  /// Records an infrastructure error (the first one is kept); returns
  /// exit_on_exception.
  bool InfrastructureError(const std::string& what);
  /// The recorded error when exit_on_exception is set and one happened.
  std::optional<std::string> StopReason() const;

 private:
  const ExitPolicySettings settings_;
  mutable std::mutex mu_;
  int failed_attempts_ = 0;
  int64_t runs_ = 0;
  std::optional<Clock::time_point> idle_since_;
  std::optional<std::string> error_;
};

}  // namespace verdi
