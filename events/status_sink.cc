#include "events/status_sink.h"

#include "jobspec/uuid.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "base/timestamp.h"
#include "events/job_status_doc.h"
#include "events/msgpack_writer.h"
#include "redis/redis_url.h"

namespace verdi {
namespace {

using SteadyClock = std::chrono::steady_clock;

/// How many uuids the HC-639 guard remembers.
constexpr size_t kGuardCapacity = 20000;

/// One document to deliver: SETEX (when setex_key is set), then RPUSH.
struct Item {
  std::string setex_key;
  std::string status;
  int64_t ttl = 0;
  std::string list_key;
  std::string packed;
  /// A terminal status whose key is watched for late writes once delivered.
  bool watch = false;
};

/// A delivered terminal status whose key is read for late writes.
struct Watch {
  Item item;  // sent again (not watched again) after a late write
  SteadyClock::time_point deadline;
  std::chrono::milliseconds interval;  // until the next read
};

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

}  // namespace

/// One Redis connection, its bounded buffer and the thread that empties it.
/// Producers only append; the thread reads the front items in place (deque
/// references survive push_back) and pops them once they are done.
class StatusSink::Channel {
 public:
  Channel(std::string what, const RedisUrl& url, const StatusSinkOptions& options)
      : what_(std::move(what)), url_(url), options_(options) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Channel() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    thread_.join();
    if (!queue_.empty()) {
      Log(LogLevel::kError,
          fmt::format("stopped with {} documents not delivered: they are lost", queue_.size()));
    }
  }

  /// Appends `item` unless the buffer is full.
  bool Push(Item&& item) {
    std::string line;
    bool accepted = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= options_.max_buffered) {
        ++dropped_;
        if (burst_++ == 0) {
          line = fmt::format(
              "buffer full ({} documents waiting): dropping new documents until there is room; "
              "{} dropped so far",
              queue_.size(), dropped_);
        }
      } else {
        if (burst_ > 0) {
          line = fmt::format("buffering again after dropping {} documents ({} dropped so far)",
                             burst_, dropped_);
          burst_ = 0;
        }
        queue_.push_back(std::move(item));
        ++accepted_;
        accepted = true;
      }
    }
    if (accepted) work_cv_.notify_one();
    if (!line.empty()) Log(LogLevel::kError, line);
    return accepted;
  }

  /// How many documents were ever accepted: the target of a Flush.
  uint64_t accepted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }

  /// Waits until the first `target` accepted documents are done.
  bool WaitDone(uint64_t target, SteadyClock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return done_cv_.wait_until(lock, deadline, [&] { return delivered_ + rejected_ >= target; });
  }

  void AddStats(StatusSinkStats* stats) const {
    std::lock_guard<std::mutex> lock(mu_);
    stats->accepted += accepted_;
    stats->delivered += delivered_;
    stats->dropped += dropped_;
    stats->rejected += rejected_;
    stats->pending += queue_.size();
    stats->watched += watched_;
    stats->unwatched += unwatched_;
    stats->resent += resent_;
  }

 private:
  void Log(LogLevel level, const std::string& message) const {
    options_.log(level,
                 fmt::format("status sink ({} {}:{}): {}", what_, url_.host, url_.port, message));
  }

  void Run() {
    std::vector<const Item*> batch;
    std::chrono::milliseconds backoff = options_.retry_min;
    int failures = 0;
    SteadyClock::time_point outage_start;
    while (true) {
      if (Watching() && SteadyClock::now() >= NextWatch()) PollWatches();
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto ready = [&] { return stop_ || !queue_.empty(); };
        if (!Watching())
          work_cv_.wait(lock, ready);
        else if (!work_cv_.wait_until(lock, NextWatch(), ready))
          continue;  // a watch is due
        if (stop_) return;
        batch.clear();
        size_t bytes = 0;
        for (const Item& item : queue_) {
          if (batch.size() >= options_.max_batch || bytes >= options_.max_batch_bytes) break;
          batch.push_back(&item);
          bytes += item.packed.size();
        }
      }
      size_t done = 0, delivered = 0;
      std::string error;
      std::vector<bool> ok_items;
      bool ok = Send(batch, &done, &delivered, &error, &ok_items);
      for (size_t i = 0; i < done; ++i)
        if (batch[i]->watch && ok_items[i]) StartWatch(*batch[i]);
      size_t pending = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (size_t i = 0; i < done; ++i) queue_.pop_front();
        delivered_ += delivered;
        rejected_ += done - delivered;
        pending = queue_.size();
      }
      // The end of an outage is logged before a Flush waiting for it returns.
      if (ok && failures > 0) {
        Log(LogLevel::kInfo,
            fmt::format("delivering again after {} failed tries in {:.1f}s; {} documents waiting",
                        failures, Seconds(SteadyClock::now() - outage_start), pending));
      }
      if (done > 0) done_cv_.notify_all();
      if (ok) {
        failures = 0;
        backoff = options_.retry_min;
        continue;
      }
      if (failures++ == 0) {
        outage_start = SteadyClock::now();
        Log(LogLevel::kError, fmt::format("cannot deliver: {}; {} documents waiting; retrying with "
                                          "backoff (at most {}ms apart)",
                                          error, pending, options_.retry_max.count()));
      } else if (failures % 10 == 0) {
        Log(LogLevel::kWarning,
            fmt::format("still cannot deliver after {} tries in {:.1f}s: {}; {} documents waiting",
                        failures, Seconds(SteadyClock::now() - outage_start), error, pending));
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (work_cv_.wait_for(lock, backoff, [&] { return stop_; })) return;
      backoff = std::min(backoff * 2, options_.retry_max);
    }
  }

  bool Watching() const { return !watches_.empty() || !settles_.empty(); }

  SteadyClock::time_point NextWatch() const {
    SteadyClock::time_point next = SteadyClock::time_point::max();
    if (!watches_.empty()) next = watches_.begin()->first;
    if (!settles_.empty()) next = std::min(next, settles_.begin()->first);
    return next;
  }

  void StartWatch(const Item& item) {
    if (watches_.size() >= options_.max_watched) {
      std::lock_guard<std::mutex> lock(mu_);
      ++unwatched_;
      return;
    }
    auto now = SteadyClock::now();
    Watch w{item, now + options_.watch_window, options_.watch_first_poll};
    w.item.watch = false;
    watches_.emplace(now + options_.watch_first_poll, std::move(w));
    std::lock_guard<std::mutex> lock(mu_);
    ++watched_;
  }

  /// A terminal document once more, behind what is buffered.
  void Resend(Item item) {
    if (Push(std::move(item))) {
      std::lock_guard<std::mutex> lock(mu_);
      ++resent_;
    }
  }

  /// Makes the second resends that are due, then reads the keys of the due
  /// watches in one round trip: a key that holds a non-terminal status gets
  /// its terminal document again, now and once more after watch_settle.
  /// A watch ends at its deadline, when its key is gone, or when another
  /// terminal status replaced it.
  void PollWatches() {
    auto now = SteadyClock::now();
    while (!settles_.empty() && settles_.begin()->first <= now) {
      Resend(std::move(settles_.begin()->second));
      settles_.erase(settles_.begin());
    }
    std::vector<Watch> due;
    while (!watches_.empty() && watches_.begin()->first <= now && due.size() < options_.max_batch) {
      Watch w = std::move(watches_.begin()->second);
      watches_.erase(watches_.begin());
      if (w.deadline > now) due.push_back(std::move(w));
    }
    if (due.empty()) return;
    std::vector<RedisReply> replies;
    if (client_.connected() || client_.Connect(url_, options_.tls, options_.io_timeout).ok()) {
      std::string bytes;
      for (const Watch& w : due) AppendRedisCommand({"GET", w.item.setex_key}, &bytes);
      if (!client_.SendEncoded(bytes, due.size(), &replies).ok()) replies.clear();
    }
    for (size_t i = 0; i < due.size(); ++i) {
      Watch& w = due[i];
      if (i < replies.size() && !Judge(&w, replies[i], now)) continue;
      SteadyClock::time_point next = now + w.interval;
      w.interval = std::min(w.interval * 2, options_.watch_max_interval);
      watches_.emplace(next, std::move(w));
    }
  }

  /// False when the watch ends.
  bool Judge(Watch* w, const RedisReply& reply, SteadyClock::time_point now) {
    if (reply.type == RedisReply::Type::kNil) return false;    // deleted or expired
    if (reply.type != RedisReply::Type::kString) return true;  // an error: read it again
    if (IsTerminalStatus(reply.str)) return reply.str == w->item.status;
    Log(LogLevel::kWarning, fmt::format("{} became {} after its terminal status {}: sent again",
                                        w->item.setex_key, reply.str, w->item.status));
    Resend(w->item);
    settles_.emplace(now + options_.watch_settle, w->item);
    w->interval = options_.watch_first_poll;
    return true;
  }

  static double Seconds(SteadyClock::duration d) {
    return std::chrono::duration<double>(d).count();
  }

  /// One round trip for `batch`. *done: how many of its first items are
  /// finished (delivered, or rejected and logged); *delivered: how many of
  /// those were delivered. False, with *error, when the rest must be retried.
  bool Send(const std::vector<const Item*>& batch, size_t* done, size_t* delivered,
            std::string* error, std::vector<bool>* ok_items) {
    ok_items->assign(batch.size(), false);
    if (!client_.connected()) {
      Status st = client_.Connect(url_, options_.tls, options_.io_timeout);
      if (!st.ok()) {
        *error = st.message();
        return false;
      }
    }
    // RESP written straight from the items: the payloads are copied once.
    // A buffer grown by a burst is given back rather than kept for good.
    if (bytes_.capacity() > (256 << 10)) std::string().swap(bytes_);
    bytes_.clear();
    size_t count = 0;
    for (const Item* item : batch) {
      if (!item->setex_key.empty()) {
        AppendRedisCommand({"SETEX", item->setex_key, std::to_string(item->ttl), item->status},
                           &bytes_);
        ++count;
      }
      AppendRedisCommand({"RPUSH", item->list_key, item->packed}, &bytes_);
      ++count;
    }
    if (Status st = client_.SendEncoded(bytes_, count, &replies_); !st.ok()) {
      *error = st.message();
      return false;
    }
    size_t r = 0;
    for (const Item* item : batch) {
      size_t n = item->setex_key.empty() ? 1 : 2;
      std::string rejection;
      for (size_t k = r; k < r + n; ++k) {
        const RedisReply& reply = replies_[k];
        if (reply.type != RedisReply::Type::kError) continue;
        if (IsTransientRedisError(reply.str)) {
          *error = "error reply: " + reply.str;
          client_.Close();  // a fresh connection may land on a recovered server
          return false;
        }
        bool setex = n == 2 && k == r;
        rejection = fmt::format("{} {}: {}", setex ? "SETEX" : "RPUSH",
                                setex ? item->setex_key : item->list_key, reply.str);
      }
      if (rejection.empty()) {
        (*ok_items)[*done] = true;
        ++*delivered;
      } else {
        Log(LogLevel::kError, "document rejected: " + rejection);
      }
      ++*done;
      r += n;
    }
    return true;
  }

  const std::string what_;
  const RedisUrl url_;
  const StatusSinkOptions& options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // items appended, or stop
  std::condition_variable done_cv_;  // items done
  std::deque<Item> queue_;
  uint64_t accepted_ = 0, delivered_ = 0, rejected_ = 0, dropped_ = 0;
  uint64_t watched_ = 0, unwatched_ = 0, resent_ = 0;
  uint64_t burst_ = 0;  // drops since the last accepted item
  bool stop_ = false;

  RedisClient client_;  // the thread's only, like the two buffers below
  std::string bytes_;
  std::vector<RedisReply> replies_;
  // The thread's only: watches by their next read, second resends by time.
  std::multimap<SteadyClock::time_point, Watch> watches_;
  std::multimap<SteadyClock::time_point, Item> settles_;
  std::thread thread_;
};

Status StatusSink::Make(const StatusSinkOptions& options, std::unique_ptr<StatusSink>* out) {
  if (options.status_url.empty()) return Status::Invalid("status_url: is empty");
  RedisUrl status_url, info_url;
  VERDI_RETURN_IF_ERROR(ParseRedisUrl(options.status_url, &status_url).WithPrefix("status_url"));
  if (!options.info_url.empty()) {
    VERDI_RETURN_IF_ERROR(ParseRedisUrl(options.info_url, &info_url).WithPrefix("info_url"));
  }
  if (options.max_buffered == 0 || options.max_batch == 0) {
    return Status::Invalid("max_buffered, max_batch: must be at least 1");
  }
  std::unique_ptr<StatusSink> sink(new StatusSink(options));
  sink->status_ = std::make_unique<Channel>("status", status_url, sink->options_);
  if (!options.info_url.empty()) {
    sink->info_ = std::make_unique<Channel>("job_info", info_url, sink->options_);
  }
  *out = std::move(sink);
  return Status::OK();
}

StatusSink::StatusSink(const StatusSinkOptions& options) : options_(options) {
  if (!options_.log) {
    options_.log = [](LogLevel level, const std::string& message) { LogLine(level, message); };
  }
  if (options_.retry_min.count() < 1) options_.retry_min = std::chrono::milliseconds(1);
  options_.retry_max = std::max(options_.retry_max, options_.retry_min);
  hostname_ = options_.hostname.empty() ? HostName() : options_.hostname;
}

// Members are destroyed in reverse order: the channels (and their threads)
// before options_, which they read.
StatusSink::~StatusSink() = default;

StatusSink::Channel& StatusSink::InfoChannel() { return info_ ? *info_ : *status_; }

bool StatusSink::LogJobStatus(const Json& doc, int64_t ttl_seconds) {
  const Json* uuid = FindPath(doc, {"uuid"});
  const Json* status = FindPath(doc, {"status"});
  if (uuid == nullptr || !uuid->is_string() || uuid->get_ref<const std::string&>().empty() ||
      status == nullptr || !status->is_string()) {
    ++invalid_;
    options_.log(LogLevel::kError,
                 "status sink: status document without a string uuid and status: not sent");
    return false;
  }
  const std::string& id = uuid->get_ref<const std::string&>();
  Item item;
  item.setex_key = "hysds-job-status-" + id;
  item.status = status->get<std::string>();
  item.ttl = std::clamp<int64_t>(ttl_seconds, 1, kMaxStatusTtlSeconds);
  item.list_key = options_.status_key;
  item.packed = PackMsgpack(doc);
  bool terminal = IsTerminalStatus(item.status);
  const Json* payload_id = FindPath(doc, {"payload_id"});
  item.watch = terminal && options_.watch_window.count() > 0 && payload_id != nullptr &&
               payload_id->is_string();

  std::unique_lock<std::mutex> lock(guard_mu_);
  if (!terminal && terminal_.count(id) > 0) {
    lock.unlock();
    ++guarded_;
    options_.log(LogLevel::kWarning,
                 fmt::format("status sink: {} for {} dropped: a terminal status was already sent",
                             item.status, id));
    return false;
  }
  std::string item_status = item.status;
  if (!status_->Push(std::move(item))) return false;
  if (terminal && terminal_.insert_or_assign(id, item_status).second) {
    terminal_order_.push_back(id);
    if (terminal_order_.size() > kGuardCapacity) {
      terminal_.erase(terminal_order_.front());
      terminal_order_.pop_front();
    }
  }
  return true;
}

std::string StatusSink::TerminalAccepted(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(guard_mu_);
  auto it = terminal_.find(uuid);
  return it == terminal_.end() ? "" : it->second;
}

bool StatusSink::LogJobInfo(const Json& doc) {
  Item item;
  item.list_key = options_.info_key;
  item.packed = PackMsgpack(doc);
  return InfoChannel().Push(std::move(item));
}

bool StatusSink::LogCustomEvent(const std::string& type, const std::string& status,
                                const Json& event, const std::vector<std::string>& tags) {
  Item item;
  item.list_key = options_.status_key;
  item.packed = PackMsgpack(
      CustomEventDocument(type, status, event, tags, hostname_, NewUuid4(), WallClock::now()));
  return status_->Push(std::move(item));
}

bool StatusSink::Flush(std::chrono::milliseconds timeout) {
  SteadyClock::time_point deadline = SteadyClock::now() + timeout;
  uint64_t status_target = status_->accepted();
  uint64_t info_target = info_ ? info_->accepted() : 0;
  bool done = status_->WaitDone(status_target, deadline);
  if (info_) done = info_->WaitDone(info_target, deadline) && done;
  return done;
}

StatusSinkStats StatusSink::stats() const {
  StatusSinkStats stats;
  status_->AddStats(&stats);
  if (info_) info_->AddStats(&stats);
  stats.guarded = guarded_;
  stats.rejected += invalid_;
  return stats;
}

}  // namespace verdi
