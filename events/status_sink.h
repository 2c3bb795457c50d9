// Where HySDS statuses, job_info metrics and custom events go: Redis lists read by Logstash,
// through a bounded in-order buffer and a background thread, so that a slow or absent Redis never
// stalls a job.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "base/status.h"
#include "jobspec/json_field.h"
#include "redis/redis_client.h"

namespace verdi {

/// Receives one whole log line of the sink (no newline); called from any
/// thread.
using EventLogFn = std::function<void(LogLevel level, const std::string& message)>;

struct StatusSinkOptions {
  /// REDIS_JOB_STATUS_URL and REDIS_JOB_STATUS_KEY: statuses and custom events.
  std::string status_url;
  std::string status_key = "logstash";
  /// REDIS_JOB_INFO_URL and REDIS_JOB_INFO_KEY: job_info metrics. An empty URL
  /// sends them through the status connection (in order with the statuses).
  std::string info_url;
  std::string info_key = "logstash";
  RedisTls tls;
  /// `hostname` of custom events (HySDS: socket.getfqdn()); empty: gethostname().
  std::string hostname;
  /// Documents buffered per connection, in flight included. Past it, NEW
  /// documents are refused (dropped and counted); the buffered ones are kept.
  size_t max_buffered = 10000;
  /// Documents (and bytes of msgpack) sent per round trip, at most.
  size_t max_batch = 1000;
  size_t max_batch_bytes = 4 << 20;
  /// Wait after a failed delivery: doubled after each failure up to retry_max,
  /// back to retry_min after a success.
  std::chrono::milliseconds retry_min{100}, retry_max{5000};
  /// Bounds a connect and each round trip.
  std::chrono::milliseconds io_timeout{5000};
  /// Late writes: HySDS's orchestrator logs job-queued only once its publish
  /// is confirmed, which can be after a fast job's terminal status. After a
  /// terminal status of a job with a payload_id is delivered, its
  /// hysds-job-status-<uuid> is read for this long (at growing intervals,
  /// from watch_first_poll up to watch_max_interval); when it holds a
  /// non-terminal status, the terminal document is sent again at once and
  /// once more `watch_settle` later (the late writer's RPUSH follows its
  /// SETEX), so that the key and the last document for the payload stay
  /// terminal. 0: not watched. At most `max_watched` jobs at once (the rest
  /// are not watched; counted).
  std::chrono::milliseconds watch_window{30000};
  std::chrono::milliseconds watch_first_poll{50}, watch_max_interval{2000};
  std::chrono::milliseconds watch_settle{1000};
  size_t max_watched = 20000;
  /// Where the sink's own lines go; empty: the log (base/log.h).
  EventLogFn log;
};

/// Running totals of a sink (all connections).
struct StatusSinkStats {
  uint64_t accepted = 0;   // queued
  uint64_t delivered = 0;  // the server replied OK to every command of the document
  uint64_t dropped = 0;    // refused because the buffer was full
  uint64_t guarded = 0;    // a non-terminal status after a terminal one of the same uuid
  uint64_t rejected = 0;   // an error reply that is not transient (WRONGTYPE, ...)
  uint64_t pending = 0;    // buffered now, in flight included
  uint64_t watched = 0;    // terminal statuses watched for a late write (in all)
  uint64_t unwatched = 0;  // not watched: max_watched reached
  uint64_t resent = 0;     // terminal documents sent again after a late write
};

/// The statuses of a worker. Thread-safe; no call waits for Redis except
/// Flush. Delivery is at least once: when a connection breaks during a round
/// trip, that round trip's documents are sent again after the reconnect.
///
/// Transport, in the order of the calls (per connection):
/// - a status: SETEX hysds-job-status-<uuid> <ttl> <status>, then RPUSH
///   <status_key> msgpack(doc);
/// - job_info: RPUSH <info_key> msgpack(doc) on the info connection;
/// - a custom event: RPUSH <status_key> msgpack(doc).
/// Several buffered documents go in one pipelined round trip. A connection
/// failure, a timeout or a transient error reply (IsTransientRedisError:
/// LOADING, READONLY, ...) is retried with capped exponential backoff,
/// keeping the order; the outage is logged once when it starts, every 10th
/// failed try, and when it ends. Any other error reply rejects that document
/// (logged, counted) and delivery goes on.
class StatusSink {
 public:
  /// Checks both URLs (Invalid, with the password redacted, when one is
  /// malformed or status_url is empty) and starts the delivery threads;
  /// connects on first use.
  static Status Make(const StatusSinkOptions& options, std::unique_ptr<StatusSink>* out);

  /// Stops the threads, waiting for a round trip in progress (at most
  /// io_timeout). What is still buffered is lost: logged with its count.
  /// Call Flush first.
  ~StatusSink();
  StatusSink(const StatusSink&) = delete;
  StatusSink& operator=(const StatusSink&) = delete;

  /// Queues the status document `doc` (JobStatusDocument: uuid and status are
  /// read from it) with the TTL of its key (StatusTtlSeconds; clamped to
  /// [1, kMaxStatusTtlSeconds]). HC-639 guard: once a terminal status
  /// (IsTerminalStatus) was accepted for a uuid, a later non-terminal status
  /// for it is dropped and logged; terminal ones still go. (The guard
  /// remembers the last 20,000 terminal uuids.) A terminal status of a
  /// document with a string payload_id is watched for late writes
  /// (StatusSinkOptions::watch_window). False when not queued: guarded,
  /// buffer full, or no string uuid/status in `doc` (logged).
  bool LogJobStatus(const Json& doc, int64_t ttl_seconds);

  /// The last terminal status accepted for `uuid`, "" when none (the HC-639
  /// guard's memory: the last 20,000 uuids).
  std::string TerminalAccepted(const std::string& uuid);

  /// Queues RPUSH <info_key> msgpack(doc) (JobInfoDocument). False: buffer full.
  bool LogJobInfo(const Json& doc);

  /// Queues a custom event (CustomEventDocument, with a new v4 uuid, now and
  /// the options' hostname) to the status list. False: buffer full.
  bool LogCustomEvent(const std::string& type, const std::string& status, const Json& event,
                      const std::vector<std::string>& tags = {});

  /// Waits up to `timeout` for everything queued before the call to be
  /// delivered (or rejected). False when some of it is still buffered.
  bool Flush(std::chrono::milliseconds timeout);

  StatusSinkStats stats() const;

 private:
  class Channel;
  explicit StatusSink(const StatusSinkOptions& options);

  /// The connection that carries job_info documents.
  Channel& InfoChannel();

  StatusSinkOptions options_;
  std::string hostname_;
  std::unique_ptr<Channel> status_;
  std::unique_ptr<Channel> info_;  // null: job_info goes through status_

  /// HC-639: uuids with an accepted terminal status, oldest first.
  std::mutex guard_mu_;
  std::unordered_map<std::string, std::string> terminal_;  // uuid -> its terminal status
  std::deque<std::string> terminal_order_;
  std::atomic<uint64_t> guarded_{0};
  std::atomic<uint64_t> invalid_{0};  // counted as rejected
};

}  // namespace verdi
