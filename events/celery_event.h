// Celery monitoring events, as Python's
// worker sends them, so `celery events`, Flower and HySDS's process_events
// read verdi's like any worker's.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "base/timestamp.h"
#include "jobspec/json_field.h"

namespace verdi {

/// A Lamport clock (kombu's LamportClock): Forward() for each event sent,
/// Adjust() with the clock of each message received. Thread-safe.
class LamportClock {
 public:
  int64_t Forward() { return ++value_; }
  int64_t Adjust(int64_t other);
  int64_t value() const { return value_; }

 private:
  std::atomic<int64_t> value_{0};
};

/// Who sends events: the node name and the worker's pid.
struct EventSender {
  std::string hostname;
  int pid = 0;
};

/// One event: `fields` plus the standard ones — type, hostname, timestamp
/// (float seconds), utcoffset (hours WEST of UTC, as Python's
/// time.timezone // 3600), pid, clock.
Json CeleryEvent(const std::string& type, const EventSender& sender, int64_t clock,
                 WallClock::time_point now, Json fields = Json::object());

/// The routing key of an event on the celeryev topic exchange: the type with
/// '-' turned into '.' ("task-succeeded" -> "task.succeeded").
std::string EventRoutingKey(const std::string& type);

/// Hours west of UTC of the local time zone right now, rounded down as
/// Python's utcoffset() is (UTC+5:30: -6; UTC-3:30: 3).
int UtcOffsetHours(WallClock::time_point now);

/// The fields every worker event carries: freq, active, processed, loadavg
/// (three floats rounded up to 2 places), sw_ident, sw_ver, sw_sys.
Json WorkerEventFields(double freq, int64_t active, int64_t processed);

/// A Python repr() of a JSON value ({'a': [1, 'x', None, True]}), which is
/// what task events carry for args, kwargs and results; cut at `limit`
/// characters with "..." as Celery's saferepr does.
std::string PythonRepr(const Json& value, size_t limit = 1024);

}  // namespace verdi
