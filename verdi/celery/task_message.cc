// Decoding Celery task messages: the protocol and the fields. The bytes of
// the body are decoded in task_message_body.cc, encoding is in
// task_message_encode.cc.
#include "verdi/celery/task_message.h"

#include <chrono>
#include <climits>
#include <cmath>

#include <fmt/format.h>

namespace verdi {
namespace {

constexpr size_t kMaxIdBytes = 255;

// A time point from seconds and microseconds since the epoch, clamped to what
// WallClock::time_point holds (years 1678..2261 with nanosecond ticks).
WallClock::time_point ClampedTime(int64_t seconds, int64_t micros) {
  using std::chrono::duration_cast;
  const int64_t max_s = duration_cast<std::chrono::seconds>(WallClock::duration::max()).count() - 1;
  if (seconds >= max_s) return WallClock::time_point::max();
  if (seconds <= -max_s) return WallClock::time_point::min();
  return WallClock::time_point(duration_cast<WallClock::duration>(
      std::chrono::seconds(seconds) + std::chrono::microseconds(micros)));
}

Status GetTime(const JsonField& field, std::optional<WallClock::time_point>* out) {
  if (field.missing()) return Status::OK();
  const Json& v = field.value();
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    *out =
        ClampedTime(u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u), 0);
    return Status::OK();
  }
  if (v.is_number_integer()) {
    *out = ClampedTime(v.get<int64_t>(), 0);
    return Status::OK();
  }
  WallClock::time_point t;
  if (!v.is_string() || !ParseIsoTime(v.get<std::string>(), &t))
    return field.Error("an ISO-8601 time");
  *out = t;
  return Status::OK();
}

Status GetTimeLimits(const JsonField& field, TaskMessage* out) {
  if (field.missing()) return Status::OK();
  if (!field.value().is_array() || field.size() != 2) return field.Error("[hard, soft]");
  std::optional<double>* slots[] = {&out->hard_time_limit, &out->soft_time_limit};
  const char* names[] = {"hard", "soft"};
  for (size_t i = 0; i < 2; ++i) {
    const Json& v = field.value()[i];
    if (v.is_null()) continue;
    double d = v.is_number() ? v.get<double>() : -1;
    if (!std::isfinite(d) || d < 0)
      return Status::Invalid(fmt::format("{}[{}] ({}): expected a number >= 0 or null, got {}",
                                         field.path(), i, names[i], DescribeJson(v)));
    *slots[i] = d;
  }
  return Status::OK();
}

Status GetId(const JsonField& field, std::string* out) {
  if (field.missing() || !field.value().is_string() || field.value().get<std::string>().empty())
    return field.Error("a non-empty string");
  *out = field.value().get<std::string>();
  if (out->size() > kMaxIdBytes)
    return Status::Invalid(fmt::format("{}: is {} bytes, more than the {} allowed", field.path(),
                                       out->size(), kMaxIdBytes));
  return Status::OK();
}

// Where each field is read: the header when the headers have the key, else
// the v1 (or hybrid) body map.
class Fields {
 public:
  Fields(const Json& headers, const Json* body_map) : headers_(headers), body_map_(body_map) {}
  JsonField operator[](std::string_view key) const {
    if (auto it = headers_.find(key); it != headers_.end())
      return JsonField(&*it, fmt::format("headers.{}", key));
    if (body_map_ != nullptr) return JsonField(body_map_, "body")[key];
    return JsonField(nullptr, fmt::format("headers.{}", key));
  }

 private:
  const Json& headers_;
  const Json* body_map_;
};

// Reads args, kwargs and embed from a v1/hybrid map or a v2 [args, kwargs,
// embed] list.
Status ReadArguments(const Json& payload, bool from_map, TaskMessage* out) {
  JsonField body(&payload, "body");
  JsonField args = from_map ? body["args"] : JsonField(&payload[0], "body[0] (args)");
  JsonField kwargs = from_map ? body["kwargs"] : JsonField(&payload[1], "body[1] (kwargs)");
  if (args.present() && !args.value().is_array()) return args.Error("a list");
  if (kwargs.present() && !kwargs.value().is_object()) return kwargs.Error("a map");
  if (args.present()) out->args = args.value();
  if (kwargs.present()) out->kwargs = kwargs.value();
  if (from_map) {
    out->embed = {
        {"callbacks", nullptr}, {"errbacks", nullptr}, {"chain", nullptr}, {"chord", nullptr}};
    for (const char* key : {"callbacks", "errbacks", "chord"})
      if (!body[key].missing()) out->embed[key] = body[key].value();
    return Status::OK();
  }
  JsonField embed(&payload[2], "body[2] (embed)");
  if (!embed.value().is_null() && !embed.value().is_object()) return embed.Error("a map or null");
  out->embed = embed.value();
  return Status::OK();
}

Status Decode(const Delivery& delivery, const DecodeLimits& limits, TaskMessage* out) {
  const Json no_headers = Json::object();
  const Json& headers = delivery.headers.is_null() ? no_headers : delivery.headers;
  if (!headers.is_object())
    return Status::Invalid("headers: expected a table, got " + DescribeJson(headers));
  // The task and id for the log line, even when the message is refused.
  auto read_for_log = [out](const Json& from) {
    const Json* t = FindPath(from, {"task"});
    const Json* i = FindPath(from, {"id"});
    if (out->task.empty() && t != nullptr && t->is_string()) out->task = *t;
    if (out->id.empty() && i != nullptr && i->is_string()) out->id = *i;
  };
  read_for_log(headers);
  const bool v2 = headers.contains("task");

  Json payload;
  VERDI_RETURN_IF_ERROR(DecodeMessageBody(delivery.content_type, FindPath(headers, {"compression"}),
                                          delivery.body, limits, &payload));

  if (!v2) {
    if (!payload.is_object() || !payload.contains("task"))
      return Status::Invalid("not a Celery task message: no task header and the body has no task");
    read_for_log(payload);
    out->protocol = 1;
  }
  const bool from_map = payload.is_object() && (!v2 || payload.contains("args"));
  if (!from_map && (!payload.is_array() || payload.size() != 3))
    return Status::Invalid("body: expected [args, kwargs, embed], got " + DescribeJson(payload));

  Fields fields(headers, from_map ? &payload : nullptr);
  JsonField task = fields["task"];
  if (task.missing() || !task.value().is_string() || task.value().get<std::string>().empty())
    return task.Error("a non-empty string");
  out->task = task.value().get<std::string>();
  VERDI_RETURN_IF_ERROR(GetId(fields["id"], &out->id));
  VERDI_RETURN_IF_ERROR(ReadArguments(payload, from_map, out));

  VERDI_RETURN_IF_ERROR(GetTime(fields["eta"], &out->eta));
  VERDI_RETURN_IF_ERROR(GetTime(fields["expires"], &out->expires));
  VERDI_RETURN_IF_ERROR(GetTimeLimits(fields["timelimit"], out));
  VERDI_RETURN_IF_ERROR(fields["retries"].GetOptionalInt(&out->retries));
  JsonField ignore_result = fields["ignore_result"];
  if (!ignore_result.missing()) {
    bool b;
    VERDI_RETURN_IF_ERROR(ignore_result.GetBool(&b));
    out->ignore_result = b;
  }
  VERDI_RETURN_IF_ERROR(fields["root_id"].GetOptionalString(&out->root_id));
  VERDI_RETURN_IF_ERROR(fields["parent_id"].GetOptionalString(&out->parent_id));
  VERDI_RETURN_IF_ERROR(fields["group"].GetOptionalString(&out->group_id));
  if (out->group_id.empty() && from_map)  // v1 names the group "taskset"
    VERDI_RETURN_IF_ERROR(JsonField(&payload, "body")["taskset"].GetOptionalString(&out->group_id));
  VERDI_RETURN_IF_ERROR(fields["origin"].GetOptionalString(&out->origin));
  VERDI_RETURN_IF_ERROR(fields["shadow"].GetOptionalString(&out->shadow));

  out->reply_to = delivery.reply_to;
  out->correlation_id = delivery.correlation_id.empty() ? out->id : delivery.correlation_id;
  return Status::OK();
}

}  // namespace

bool ParseIsoTime(std::string_view s, WallClock::time_point* out) {
  size_t i = 0;
  auto number = [&](size_t n, int* v) {
    if (s.size() - i < n) return false;
    int r = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      r = r * 10 + (c - '0');
    }
    i += n;
    *v = r;
    return true;
  };
  auto literal = [&](char c) {
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
  };
  int year, month, day, hour = 0, minute = 0, second = 0, off_h = 0, off_m = 0, sign = 0;
  int64_t micros = 0;
  if (!number(4, &year) || !literal('-') || !number(2, &month) || !literal('-') || !number(2, &day))
    return false;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
    ++i;
    if (!number(2, &hour) || !literal(':') || !number(2, &minute)) return false;
    if (literal(':')) {
      if (!number(2, &second)) return false;
      if (literal('.')) {
        size_t digits = 0;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
          if (digits < 6) micros = micros * 10 + (s[i] - '0');
        if (digits == 0) return false;
        for (; digits < 6; ++digits) micros *= 10;
      }
    }
    if (literal('Z') || literal('z')) {
      sign = 0;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      sign = s[i] == '-' ? -1 : 1;
      ++i;
      if (!number(2, &off_h)) return false;
      literal(':');
      if (!number(2, &off_m)) return false;
    }
    if (i != s.size()) return false;
  }
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (year < 1 || !ymd.ok() || hour > 23 || minute > 59 || second > 59 || off_h > 23 || off_m > 59)
    return false;
  int64_t seconds = static_cast<int64_t>(sys_days(ymd).time_since_epoch().count()) * 86400 +
                    hour * 3600 + minute * 60 + second - sign * (off_h * 3600 + off_m * 60);
  *out = ClampedTime(seconds, micros);
  return true;
}

Status DecodeTaskMessage(const Delivery& delivery, const DecodeLimits& limits, TaskMessage* out) {
  *out = TaskMessage();
  try {
    return Decode(delivery, limits, out);
  } catch (const std::exception& e) {
    return Status::Failed(fmt::format("decoding a task message: internal error: {}", e.what()));
  }
}

}  // namespace verdi
