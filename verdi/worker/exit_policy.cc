#include "verdi/worker/exit_policy.h"

#include <fmt/format.h>

namespace verdi {

void ExitPolicy::Connected(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  failed_attempts_ = 0;
  if (!idle_since_) idle_since_ = now;
}

bool ExitPolicy::ConnectFailed(const std::string& why) {
  int failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failed = ++failed_attempts_;
  }
  if (!settings_.exit_on_exception || failed < settings_.reconnect_attempts) return false;
  return InfrastructureError(fmt::format(
      "the broker is gone: {} connection attempts in a row failed, the last: {}", failed, why));
}

bool ExitPolicy::RunTaken() {
  std::lock_guard<std::mutex> lock(mu_);
  ++runs_;
  return settings_.max_runs > 0 && runs_ == settings_.max_runs;
}

bool ExitPolicy::QuotaReached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settings_.max_runs > 0 && runs_ >= settings_.max_runs;
}

void ExitPolicy::Touch(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_since_) idle_since_ = now;
}

bool ExitPolicy::IdleLongEnough(size_t busy, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!idle_since_) return false;  // not connected yet
  if (busy > 0) {
    idle_since_ = now;
    return false;
  }
  return settings_.idle && now - *idle_since_ >= *settings_.idle;
}

bool ExitPolicy::InfrastructureError(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_) error_ = what;
  return settings_.exit_on_exception;
}

std::optional<std::string> ExitPolicy::StopReason() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!settings_.exit_on_exception) return std::nullopt;
  return error_;
}

}  // namespace verdi
