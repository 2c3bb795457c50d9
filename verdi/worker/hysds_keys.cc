#include "verdi/worker/hysds_keys.h"

#include <algorithm>

#include "base/log.h"

namespace verdi {

Status HysdsKeys::Make(const std::string& url, std::unique_ptr<HysdsKeys>* out,
                       std::chrono::milliseconds timeout, std::chrono::milliseconds retry_after) {
  out->reset();
  RedisUrl parsed;
  VERDI_RETURN_IF_ERROR(ParseRedisUrl(url, &parsed));
  timeout = std::min(timeout, std::chrono::milliseconds(2000));
  out->reset(new HysdsKeys(std::move(parsed), timeout, retry_after));
  return Status::OK();
}

bool HysdsKeys::Run(const std::vector<std::string>& argv, RedisReply* reply) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!client_.connected() && failing_ && now < next_try_) return false;
  Status st;
  if (!client_.connected()) st = client_.Connect(url_, RedisTls{}, timeout_);
  if (st.ok()) st = client_.Command(argv, reply);
  if (st.ok() && reply->type == RedisReply::Type::kError)
    st = Status::Failed("redis " + client_.endpoint() + ": " + argv[0] + ": " + reply->str);
  if (!st.ok()) {
    if (!failing_)
      LogWarning(
          "hysds keys: {}; revocation checks and task-worker keys are skipped until it "
          "is back",
          st.message());
    failing_ = true;
    next_try_ = now + retry_after_;
    return false;
  }
  if (failing_) LogInfo("hysds keys: redis {} is back", client_.endpoint());
  failing_ = false;
  return true;
}

bool HysdsKeys::IsRevoked(const std::string& task_id) {
  RedisReply reply;
  if (!Run({"EXISTS", "hysds-revoked-task-" + task_id}, &reply)) return false;
  return reply.type == RedisReply::Type::kInteger && reply.integer > 0;
}

std::string HysdsKeys::JobStatus(const std::string& task_id) {
  RedisReply reply;
  if (!Run({"GET", "hysds-job-status-" + task_id}, &reply)) return "";
  return reply.type == RedisReply::Type::kString ? reply.str : "";
}

bool HysdsKeys::SetTaskWorker(const std::string& task_id, const std::string& hostname) {
  RedisReply reply;
  return Run({"SETEX", "hysds-task-worker-" + task_id, std::to_string(kHysdsTaskWorkerTtlSeconds),
              hostname},
             &reply);
}

}  // namespace verdi
