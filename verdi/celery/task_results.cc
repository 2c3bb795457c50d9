#include "verdi/celery/task_results.h"

#include <atomic>

#include "base/log.h"
#include "verdi/celery/result_backend.h"

namespace verdi {
namespace {

class NoResults : public TaskResults {
 public:
  Status Store(const TaskMessage&, const std::string&, const Json&, const Json&) override {
    return Status::OK();
  }
  std::string StoredState(const std::string&) override { return ""; }
};

class BackendResults : public TaskResults {
 public:
  BackendResults(std::unique_ptr<ResultBackend> backend, int64_t expires, ResultFormat format)
      : backend_(std::move(backend)), expires_(expires), format_(std::move(format)) {}

  Status Store(const TaskMessage& task, const std::string& state, const Json& result,
               const Json& traceback) override {
    std::string doc = Encode(task, state, result, traceback);
    Status st = backend_->Store(task.id, doc, expires_);
    if (st.ok()) return st;
    ++failures_;
    LogError("task {}: result {} not stored: {}", task.id, state, st.message());
    return st;
  }

  Status StoreOnce(const TaskMessage& task, const std::string& state, const Json& result,
                   const Json& traceback) override {
    return backend_->StoreOnce(task.id, Encode(task, state, result, traceback), expires_);
  }

  uint64_t failures() const override { return failures_; }

  std::string Encode(const TaskMessage& task, const std::string& state, const Json& result,
                     const Json& traceback) const {
    return EncodeResult(format_.serializer, task.id, state, result, traceback, &task,
                        WallClock::now());
  }

  std::string StoredState(const std::string& task_id) override {
    std::string stored;
    bool found = false;
    Status st = backend_->Get(task_id, &stored, &found);
    if (!st.ok()) {
      LogWarning("task {}: cannot read its stored state: {}", task_id, st.message());
      return "";
    }
    if (!found) return "";
    Json doc;
    st = DecodeResult(stored, format_.accept, &doc);
    if (!st.ok()) {
      LogWarning("task {}: cannot read its stored state: {}", task_id, st.message());
      return "";
    }
    return ResultState(doc);
  }

 private:
  std::unique_ptr<ResultBackend> backend_;
  int64_t expires_;
  const ResultFormat format_;
  std::atomic<uint64_t> failures_{0};
};

// rpc://: every state is a message to the task's reply_to queue through the
// default exchange, correlation_id = the task id, not persistent.
class RpcResults : public TaskResults {
 public:
  RpcResults(Outbox* outbox, Serializer serializer) : outbox_(outbox), serializer_(serializer) {}

  Status Store(const TaskMessage& task, const std::string& state, const Json& result,
               const Json& traceback) override {
    if (task.reply_to.empty()) {
      LogWarning("task {}: result backend is rpc:// but the message has no reply_to", task.id);
      return Status::OK();  // nowhere to send it: waiting for a backend changes nothing
    }
    AmqpOutgoing message;
    message.body =
        EncodeResult(serializer_, task.id, state, result, traceback, &task, WallClock::now());
    message.content_type = ContentTypeOf(serializer_);
    message.content_encoding = ContentEncodingOf(serializer_);
    message.correlation_id = task.correlation_id.empty() ? task.id : task.correlation_id;
    message.delivery_mode = 1;
    outbox_->Push(BrokerAction::Publish("", task.reply_to, std::move(message)));
    return Status::OK();
  }

  std::string StoredState(const std::string&) override { return ""; }

 private:
  Outbox* outbox_;
  Serializer serializer_;
};

}  // namespace

bool IsReadyState(const std::string& state) {
  return state == "SUCCESS" || state == "FAILURE" || state == "REVOKED";
}

Status MakeTaskResults(const std::string& url, int64_t expires_seconds, const ResultFormat& format,
                       Outbox* outbox, std::unique_ptr<TaskResults>* out) {
  if (url.empty() || url == "disabled") {
    *out = std::make_unique<NoResults>();
  } else if (url.rfind("rpc://", 0) == 0) {
    *out = std::make_unique<RpcResults>(outbox, format.serializer);
  } else if (url.rfind("redis://", 0) == 0 || url.rfind("rediss://", 0) == 0) {
    std::unique_ptr<ResultBackend> backend;
    VERDI_RETURN_IF_ERROR(MakeRedisResultBackend(url, &backend));
    *out = std::make_unique<BackendResults>(std::move(backend), expires_seconds, format);
  } else {
    return Status::Invalid(
        "result_backend: expected redis://, rediss://, rpc:// or disabled, got \"" +
        url.substr(0, url.find(':')) + "://...\"");
  }
  return Status::OK();
}

}  // namespace verdi
