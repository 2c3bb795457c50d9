#include "verdi/celery/task_results.h"

#include <atomic>

#include "base/log.h"
#include "verdi/celery/result_backend.h"

namespace verdi {
namespace {

class NoResults : public TaskResults {
 public:
  Status Store(const TaskMessage&, const std::string&, const Json&) override {
    return Status::OK();
  }
  std::string StoredState(const std::string&) override { return ""; }
};

class BackendResults : public TaskResults {
 public:
  BackendResults(std::unique_ptr<ResultBackend> backend, int64_t expires)
      : backend_(std::move(backend)), expires_(expires) {}

  Status Store(const TaskMessage& task, const std::string& state, const Json& result) override {
    std::string doc = EncodeResultJson(task.id, state, result, nullptr, &task, WallClock::now());
    Status st = backend_->Store(task.id, doc, expires_);
    if (st.ok()) return st;
    ++failures_;
    LogError("task {}: result {} not stored: {}", task.id, state, st.message());
    return st;
  }

  Status StoreOnce(const TaskMessage& task, const std::string& state, const Json& result) override {
    std::string doc = EncodeResultJson(task.id, state, result, nullptr, &task, WallClock::now());
    return backend_->StoreOnce(task.id, doc, expires_);
  }

  uint64_t failures() const override { return failures_; }

  std::string StoredState(const std::string& task_id) override {
    std::string doc;
    bool found = false;
    Status st = backend_->Get(task_id, &doc, &found);
    if (!st.ok()) {
      LogWarning("task {}: cannot read its stored state: {}", task_id, st.message());
      return "";
    }
    if (!found) return "";
    Json parsed = Json::parse(doc, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("status") || !parsed["status"].is_string())
      return "";
    return parsed["status"].get<std::string>();
  }

 private:
  std::unique_ptr<ResultBackend> backend_;
  int64_t expires_;
  std::atomic<uint64_t> failures_{0};
};

// rpc://: every state is a message to the task's reply_to queue through the
// default exchange, correlation_id = the task id, not persistent.
class RpcResults : public TaskResults {
 public:
  explicit RpcResults(Outbox* outbox) : outbox_(outbox) {}

  Status Store(const TaskMessage& task, const std::string& state, const Json& result) override {
    if (task.reply_to.empty()) {
      LogWarning("task {}: result backend is rpc:// but the message has no reply_to", task.id);
      return Status::OK();  // nowhere to send it: waiting for a backend changes nothing
    }
    AmqpOutgoing message;
    message.body = EncodeResultJson(task.id, state, result, nullptr, &task, WallClock::now());
    message.content_type = "application/json";
    message.content_encoding = "utf-8";
    message.correlation_id = task.correlation_id.empty() ? task.id : task.correlation_id;
    message.delivery_mode = 1;
    outbox_->Push(BrokerAction::Publish("", task.reply_to, std::move(message)));
    return Status::OK();
  }

  std::string StoredState(const std::string&) override { return ""; }

 private:
  Outbox* outbox_;
};

}  // namespace

bool IsReadyState(const std::string& state) {
  return state == "SUCCESS" || state == "FAILURE" || state == "REVOKED";
}

Status MakeTaskResults(const std::string& url, int64_t expires_seconds, Outbox* outbox,
                       std::unique_ptr<TaskResults>* out) {
  if (url.empty() || url == "disabled") {
    *out = std::make_unique<NoResults>();
  } else if (url.rfind("rpc://", 0) == 0) {
    *out = std::make_unique<RpcResults>(outbox);
  } else if (url.rfind("redis://", 0) == 0 || url.rfind("rediss://", 0) == 0) {
    std::unique_ptr<ResultBackend> backend;
    VERDI_RETURN_IF_ERROR(MakeRedisResultBackend(url, &backend));
    *out = std::make_unique<BackendResults>(std::move(backend), expires_seconds);
  } else {
    return Status::Invalid(
        "result_backend: expected redis://, rediss://, rpc:// or disabled, got \"" +
        url.substr(0, url.find(':')) + "://...\"");
  }
  return Status::OK();
}

}  // namespace verdi
