#include "verdi/worker/unstored_results.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "base/files.h"
#include "base/log.h"

namespace verdi {
namespace fs = std::filesystem;

namespace {

// What a result document takes from its task (EncodeResult): the task's
// arguments, which may be megabytes, are not kept.
TaskMessage ResultFields(const TaskMessage& task) {
  TaskMessage light;
  light.id = task.id;
  light.task = task.task;
  light.root_id = task.root_id;
  light.parent_id = task.parent_id;
  light.group_id = task.group_id;
  light.reply_to = task.reply_to;
  light.correlation_id = task.correlation_id;
  light.children = task.children;
  return light;
}

// A task id names a file of its own only when it is made of letters,
// digits, '-', '_' and '.', does not start with '.', and is not too long.
bool NamesAFile(const std::string& id) {
  if (id.empty() || id.size() > 200 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

UnstoredResults::UnstoredResults(TaskResults* results, Outbox* outbox, Options options)
    : results_(results),
      outbox_(outbox),
      options_(std::move(options)),
      backoff_(options_.first_retry),
      thread_([this] { Loop(); }) {}

UnstoredResults::~UnstoredResults() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (!kept_.empty())
      LogWarning(
          "{} task result(s) still not stored: their messages stay with the broker, unacked, "
          "and the results on disk for the next worker on this node",
          kept_.size());
  }
  cv_.notify_all();
  thread_.join();
}

void UnstoredResults::Keep(const TaskMessage& task, const std::string& state, const Json& result,
                           const Json& traceback, std::shared_ptr<AckTarget> ack, bool reject) {
  Kept kept{ResultFields(task), state, result, traceback, std::move(ack), reject};
  Write(kept);
  LogWarning(
      "task {}: result {} not stored; its message stays unacked and the result is stored "
      "again until the result backend takes it",
      task.id, state);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (kept_.empty() || next_try_ < now) next_try_ = now + backoff_;
    kept.generation = ++generation_;
    kept_[task.id] = std::move(kept);
  }
  cv_.notify_all();
}

bool UnstoredResults::Adopt(const TaskMessage& task, const TaskDelivery& delivery) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = kept_.find(task.id);
  if (it == kept_.end()) {
    lock.unlock();
    Kept kept;
    if (!Read(task, &kept)) return false;
    LogWarning("task {}: its result {} was kept on disk by an earlier worker: stored now", task.id,
               kept.state);
    lock.lock();
    it = kept_.find(task.id);
    if (it == kept_.end()) {
      kept.generation = ++generation_;
      it = kept_.emplace(task.id, std::move(kept)).first;
    }
  }
  if (it->second.ack)
    it->second.ack->Set(delivery);
  else
    it->second.ack = std::make_shared<AckTarget>(delivery);
  next_try_ = std::chrono::steady_clock::now();  // the backend may be back: try at once
  lock.unlock();
  cv_.notify_all();
  return true;
}

size_t UnstoredResults::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kept_.size();
}

void UnstoredResults::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (kept_.empty()) {
      cv_.wait(lock);
      continue;
    }
    if (std::chrono::steady_clock::now() < next_try_) {
      cv_.wait_until(lock, next_try_);
      continue;
    }
    // One round: every kept result once, until the backend refuses one.
    std::vector<std::string> ids;
    for (const auto& [id, kept] : kept_) ids.push_back(id);
    bool refused = false;
    for (const std::string& id : ids) {
      auto it = kept_.find(id);
      if (it == kept_.end()) continue;
      Kept kept = it->second;
      lock.unlock();
      Status st = results_->StoreOnce(kept.task, kept.state, kept.result, kept.traceback);
      lock.lock();
      if (!st.ok()) {
        refused = true;
        break;
      }
      it = kept_.find(id);
      // Kept again meanwhile (a newer result): that one is stored next round.
      if (it == kept_.end() || it->second.generation != kept.generation) continue;
      if (it->second.ack) {
        TaskDelivery target = it->second.ack->Get();
        BrokerAction action = it->second.reject ? BrokerAction::Reject(target.tag, false)
                                                : BrokerAction::Ack(target.tag);
        action.connection = target.connection;
        outbox_->Push(std::move(action));
      }
      Remove(id);
      if (options_.claims != nullptr) options_.claims->Release(id);
      LogInfo("task {}: result {} stored at last; its message is {}", id, kept.state,
              it->second.reject ? "rejected" : "acked");
      kept_.erase(it);
    }
    auto now = std::chrono::steady_clock::now();
    if (refused) {
      next_try_ = now + backoff_;
      backoff_ = std::min(backoff_ * 2, options_.max_retry);
    } else {
      backoff_ = options_.first_retry;
    }
  }
}

fs::path UnstoredResults::FileOf(const std::string& task_id) const {
  if (options_.dir.empty() || !NamesAFile(task_id)) return {};
  return options_.dir / (task_id + ".json");
}

void UnstoredResults::Write(const Kept& kept) const {
  fs::path file = FileOf(kept.task.id);
  if (file.empty()) return;
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (!ec) chmod(options_.dir.c_str(), 0700);
  Json doc = {{"task_id", kept.task.id},
              {"state", kept.state},
              {"result", kept.result},
              {"traceback", kept.traceback},
              {"reject", kept.reject}};
  Status st = ec ? Status::IOError("creating " + options_.dir.string(), ec.value())
                 : WriteFileAtomic(file.string(), doc.dump(), 0600);
  if (!st.ok())
    LogWarning("task {}: its unstored result is kept in memory only: {}", kept.task.id,
               st.message());
}

bool UnstoredResults::Read(const TaskMessage& task, Kept* kept) const {
  fs::path file = FileOf(task.id);
  if (file.empty()) return false;
  struct stat st;
  if (lstat(file.c_str(), &st) != 0) return false;
  Json doc;
  Status read = ReadJsonFile(file.string(), &doc);
  if (read.ok() && (!doc.is_object() || doc.value("task_id", "") != task.id ||
                    !doc.contains("state") || !doc["state"].is_string() ||
                    !IsReadyState(doc["state"].get<std::string>()) || !doc.contains("result")))
    read = Status::Invalid(file.string() + ": not a kept result of task " + task.id);
  if (!read.ok()) {
    LogWarning("task {}: {}; ignored", task.id, read.message());
    return false;
  }
  kept->task = ResultFields(task);
  kept->state = doc["state"].get<std::string>();
  kept->result = doc["result"];
  kept->traceback = doc.value("traceback", Json(nullptr));
  kept->reject = doc.value("reject", false);
  return true;
}

void UnstoredResults::Remove(const std::string& task_id) const {
  fs::path file = FileOf(task_id);
  if (file.empty()) return;
  if (unlink(file.c_str()) != 0 && errno != ENOENT)
    LogWarning("task {}: removing {}: {}", task_id, file.string(), std::strerror(errno));
  rmdir(options_.dir.c_str());  // once empty, so an unused work root can still be deleted
}

}  // namespace verdi
