// Helpers shared by the Celery message codec's tests: real messages captured
// from Python's Celery 5.2.6, and short ways to decode them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "verdi/celery/task_message.h"

namespace verdi::celery_testing {

inline std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

inline WallClock::time_point Utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
  using namespace std::chrono;
  return WallClock::time_point(sys_days(year_month_day{year(y), month(mo), day(d)}) + hours(h) +
                               minutes(mi) + seconds(s) + microseconds(us));
}

// The headers Celery 5.2.6 sends with
// send_task('proj.tasks.add', args=(2, 2), kwargs={'z': 1}, task_id=..., eta=now+10s,
//           expires=now+60s, time_limit=30, soft_time_limit=20)
// captured from the memory transport (basic_get), as the AMQP layer hands them over.
inline Json CeleryHeaders() {
  return Json::parse(R"j({"lang": "py", "task": "proj.tasks.add",
    "id": "d2e2b4a1-0000-4000-8000-000000000001", "shadow": null,
    "eta": "2026-11-23T08:04:54.022062+00:00", "expires": "2026-11-23T08:05:44.022062+00:00",
    "group": null, "group_index": null, "retries": 0, "timelimit": [30, 20],
    "root_id": "d2e2b4a1-0000-4000-8000-000000000001", "parent_id": null,
    "argsrepr": "(2, 2)", "kwargsrepr": "{'z': 1}", "origin": "gen10779@vm",
    "ignore_result": false})j");
}

inline constexpr char kCeleryJsonBody[] =
    R"([[2, 2], {"z": 1}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}])";

inline Delivery JsonDelivery(std::string body, Json headers = Json::object()) {
  Delivery d;
  d.content_type = "application/json";
  d.content_encoding = "utf-8";
  d.headers = std::move(headers);
  d.body = std::move(body);
  return d;
}

// A v2 message with only the two required headers and `body`.
inline Delivery Minimal(std::string body = "[[], {}, null]") {
  return JsonDelivery(std::move(body), {{"task", "t.x"}, {"id", "id-1"}});
}

inline Status Decode(const Delivery& d, TaskMessage* out, DecodeLimits limits = {}) {
  return DecodeTaskMessage(d, limits, out);
}

// The error message of decoding `d`, "" when it decodes.
inline std::string DecodeError(const Delivery& d, DecodeLimits limits = {}) {
  TaskMessage m;
  Status st = DecodeTaskMessage(d, limits, &m);
  if (!st.ok()) {
    EXPECT_TRUE(st.IsInvalid()) << st.message();
  }
  return st.message();
}

}  // namespace verdi::celery_testing
