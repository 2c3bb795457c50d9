#include "verdi/worker/task_claims.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "verdi/job/host_facts.h"

namespace verdi {
namespace {

constexpr const char* kDeleteIfHeld =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end";
constexpr const char* kRenewIfHeld =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

std::string Key(const std::string& task_id) { return "verdi-task-claim-" + task_id; }

}  // namespace

TaskClaims::TaskClaims(HysdsKeys* keys, std::string nodename, std::chrono::milliseconds ttl)
    : keys_(keys),
      self_(fmt::format("{} {} {}", nodename, GetHostFacts().fqdn, getpid())),
      host_(GetHostFacts().fqdn),
      ttl_(ttl),
      renewer_([this] { RenewLoop(); }) {}

TaskClaims::~TaskClaims() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  renewer_.join();
}

TaskClaims::Result TaskClaims::Claim(const std::string& task_id, std::string* holder) {
  const std::string key = Key(task_id);
  for (int attempt = 0; attempt < 3; ++attempt) {
    RedisReply reply;
    if (!keys_->Run({"SET", key, self_, "NX", "PX", std::to_string(ttl_.count())}, &reply))
      return Result::kNoBackend;
    if (reply.type == RedisReply::Type::kStatus) {
      std::lock_guard<std::mutex> lock(mu_);
      held_.insert(task_id);
      return Result::kClaimed;
    }
    if (!keys_->Run({"GET", key}, &reply)) return Result::kNoBackend;
    if (reply.type != RedisReply::Type::kString) continue;  // ended in between
    *holder = reply.str;
    if (!HolderIsDeadHere(reply.str)) return Result::kHeld;
    LogWarning("task {}: the run that claimed it ({}) is gone: claiming it", task_id, reply.str);
    if (!keys_->Run({"EVAL", kDeleteIfHeld, "1", key, reply.str}, &reply))
      return Result::kNoBackend;
  }
  return Result::kHeld;
}

void TaskClaims::Release(const std::string& task_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_.erase(task_id) == 0) return;
  }
  RedisReply reply;
  (void)keys_->Run({"EVAL", kDeleteIfHeld, "1", Key(task_id), self_}, &reply);
}

// "<nodename> <host> <pid>" of a process on this host that no longer runs.
bool TaskClaims::HolderIsDeadHere(const std::string& holder) const {
  size_t last = holder.rfind(' ');
  if (last == std::string::npos || last == 0) return false;
  size_t before = holder.rfind(' ', last - 1);
  if (before == std::string::npos) return false;
  if (holder.compare(before + 1, last - before - 1, host_) != 0) return false;
  char* end = nullptr;
  long pid = std::strtol(holder.c_str() + last + 1, &end, 10);
  if (end == nullptr || *end != '\0' || pid <= 1 || pid == getpid()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

bool TaskClaims::StillHeld(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.count(task_id) > 0;
}

void TaskClaims::RenewLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait_for(lock, ttl_ / 3, [this] { return stopping_; });
    if (stopping_) return;
    std::vector<std::string> held(held_.begin(), held_.end());
    lock.unlock();
    for (const std::string& task_id : held) {
      RedisReply reply;
      if (keys_->Run({"EVAL", kRenewIfHeld, "1", Key(task_id), self_, std::to_string(ttl_.count())},
                     &reply) &&
          reply.type == RedisReply::Type::kInteger && reply.integer == 0 && StillHeld(task_id))
        LogWarning("task {}: its claim was lost (Redis unreachable for longer than {} s?)", task_id,
                   ttl_.count() / 1000);
    }
    lock.lock();
  }
}

}  // namespace verdi
