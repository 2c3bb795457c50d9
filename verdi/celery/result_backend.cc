#include "verdi/celery/result_backend.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/redact.h"
#include "jobspec/json_field.h"
#include "redis/redis_url.h"
#include "verdi/celery/result_document.h"

namespace verdi {
namespace {

/// The "status" of a stored result document in either serializer, "" when
/// unreadable.
std::string StateOf(const std::string& document) {
  Json doc;
  if (!DecodeResult(document, {Serializer::kJson, Serializer::kMsgpack}, &doc).ok()) return "";
  return ResultState(doc);
}

class RedisResultBackend : public ResultBackend {
 public:
  RedisResultBackend(RedisUrl url, std::string redacted, RedisResultBackendOptions options)
      : url_(std::move(url)), redacted_(std::move(redacted)), options_(std::move(options)) {}

  Status Store(const std::string& task_id, const std::string& document,
               int64_t expires_seconds) override {
    return StoreWithTries(task_id, document, expires_seconds, options_.max_attempts);
  }

  Status StoreOnce(const std::string& task_id, const std::string& document,
                   int64_t expires_seconds) override {
    return StoreWithTries(task_id, document, expires_seconds, 1);
  }

  Status Get(const std::string& task_id, std::string* document, bool* found) override {
    const std::string key = "celery-task-meta-" + task_id;
    std::lock_guard<std::mutex> lock(mu_);
    return WithRetries("reading the result of task " + task_id, options_.max_attempts,
                       [&](bool* retry) -> Status {
                         RedisReply reply;
                         VERDI_RETURN_IF_ERROR(client_.Command({"GET", key}, &reply));
                         if (reply.type == RedisReply::Type::kError)
                           return ReplyError("GET", reply, retry);
                         *found = reply.type == RedisReply::Type::kString;
                         document->clear();
                         if (*found) *document = std::move(reply.str);
                         return Status::OK();
                       });
  }

 private:
  Status StoreWithTries(const std::string& task_id, const std::string& document,
                        int64_t expires_seconds, int max_attempts) {
    const std::string key = "celery-task-meta-" + task_id;
    std::lock_guard<std::mutex> lock(mu_);
    return WithRetries(
        "storing the result of task " + task_id, max_attempts, [&](bool* retry) -> Status {
          RedisReply existing;
          VERDI_RETURN_IF_ERROR(client_.Command({"GET", key}, &existing));
          if (existing.type == RedisReply::Type::kError) return ReplyError("GET", existing, retry);
          // Celery's guard: a SUCCESS is final. The same document again (a retry
          // after the connection dropped mid-pipeline) is stored and published
          // again, so a waiting client is not left without its PUBLISH.
          if (existing.type == RedisReply::Type::kString && existing.str != document &&
              StateOf(existing.str) == "SUCCESS") {
            LogDebug("task {}: SUCCESS already stored, {} not stored", task_id, StateOf(document));
            return Status::OK();
          }
          std::vector<std::vector<std::string>> commands;
          if (expires_seconds > 0) {
            commands.push_back({"SETEX", key, std::to_string(expires_seconds), document});
          } else {
            commands.push_back({"SET", key, document});
          }
          commands.push_back({"PUBLISH", key, document});
          std::vector<RedisReply> replies;
          VERDI_RETURN_IF_ERROR(client_.Pipeline(commands, &replies));
          for (size_t i = 0; i < replies.size(); ++i) {
            if (replies[i].type == RedisReply::Type::kError) {
              return ReplyError(commands[i][0].c_str(), replies[i], retry);
            }
          }
          return Status::OK();
        });
  }

  /// An error reply as a Status; transient ones (IsTransientRedisError) are
  /// retried on a new connection, the others (WRONGTYPE, ...) are not.
  Status ReplyError(const char* command, const RedisReply& reply, bool* retry) {
    *retry = IsTransientRedisError(reply.str);
    if (*retry) client_.Close();
    return Status::Failed(
        fmt::format("redis {}: {} answered: {}", client_.endpoint(), command, reply.str));
  }

  /// Runs `attempt` (connecting first when needed) until it succeeds, says
  /// not to retry, or `tries` tries have failed. Holds mu_.
  Status WithRetries(const std::string& what, int tries,
                     const std::function<Status(bool*)>& attempt) {
    const int max_attempts = std::max(1, tries);
    std::chrono::milliseconds delay = options_.first_backoff;
    Status last;
    for (int i = 1; i <= max_attempts; ++i) {
      bool retry = true;
      last = client_.connected() ? Status::OK()
                                 : client_.Connect(url_, options_.tls, options_.timeout);
      if (last.IsInvalid()) retry = false;  // a bad CA or client certificate file
      if (last.ok()) {
        last = attempt(&retry);
        if (last.ok()) return last;
      }
      bool again = retry && i < max_attempts;
      LogWarning("result backend {}: {}: attempt {}/{} failed: {}; {}", redacted_, what, i,
                 max_attempts, last.message(),
                 again ? fmt::format("retrying in {} ms", delay.count()) : "giving up");
      if (!again) {
        return last.WithPrefix(fmt::format("result backend {}: {} failed after {} attempt{}",
                                           redacted_, what, i, i == 1 ? "" : "s"));
      }
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, options_.max_backoff);
    }
    return last;  // not reached
  }

  const RedisUrl url_;
  const std::string redacted_;
  const RedisResultBackendOptions options_;
  std::mutex mu_;
  RedisClient client_;  // guarded by mu_
};

}  // namespace

Status MakeRedisResultBackend(const std::string& url, std::unique_ptr<ResultBackend>* out) {
  return MakeRedisResultBackend(url, RedisResultBackendOptions(), out);
}

Status MakeRedisResultBackend(const std::string& url, const RedisResultBackendOptions& options,
                              std::unique_ptr<ResultBackend>* out) {
  RedisUrl parsed;
  VERDI_RETURN_IF_ERROR(ParseRedisUrl(url, &parsed).WithPrefix("result_backend"));
  *out = std::make_unique<RedisResultBackend>(std::move(parsed), RedactUrls(url), options);
  return Status::OK();
}

}  // namespace verdi
