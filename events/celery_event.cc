#include "events/celery_event.h"

#include <cmath>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace verdi {
namespace {

void AppendRepr(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::null:
      *out += "None";
      break;
    case Json::value_t::boolean:
      *out += value.get<bool>() ? "True" : "False";
      break;
    case Json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      // Python prefers single quotes, and double ones when that saves escapes.
      char quote =
          s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
      out->push_back(quote);
      for (unsigned char c : s) {
        if (c == '\\' || c == static_cast<unsigned char>(quote)) {
          out->push_back('\\');
          out->push_back(static_cast<char>(c));
        } else if (c == '\n') {
          *out += "\\n";
        } else if (c == '\t') {
          *out += "\\t";
        } else if (c == '\r') {
          *out += "\\r";
        } else if (c < 0x20 || c == 0x7f) {
          *out += fmt::format("\\x{:02x}", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
      }
      out->push_back(quote);
      break;
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) *out += ", ";
        first = false;
        AppendRepr(item, out);
      }
      out->push_back(']');
      break;
    }
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) *out += ", ";
        first = false;
        AppendRepr(Json(key), out);
        *out += ": ";
        AppendRepr(item, out);
      }
      out->push_back('}');
      break;
    }
    default:
      *out += value.dump();
      break;  // numbers print the same in both
  }
}

}  // namespace

int64_t LamportClock::Adjust(int64_t other) {
  int64_t current = value_.load();
  int64_t next;
  do {
    next = std::max(current, other) + 1;
  } while (!value_.compare_exchange_weak(current, next));
  return next;
}

int UtcOffsetHours(WallClock::time_point now) {
  time_t t = WallClock::to_time_t(now);
  struct tm local;
  localtime_r(&t, &local);
  // tm_gmtoff is seconds EAST of UTC; Celery counts hours west, rounded
  // down as Python's time.timezone // 3600 is: UTC+5:30 is -6, not -5 (a
  // receiver in the same zone would otherwise see an hour of drift).
  long west = -local.tm_gmtoff;
  return static_cast<int>(west / 3600 - (west % 3600 < 0 ? 1 : 0));
}

Json CeleryEvent(const std::string& type, const EventSender& sender, int64_t clock,
                 WallClock::time_point now, Json fields) {
  fields["type"] = type;
  fields["hostname"] = sender.hostname;
  fields["timestamp"] = std::chrono::duration<double>(now.time_since_epoch()).count();
  fields["utcoffset"] = UtcOffsetHours(now);
  fields["pid"] = sender.pid;
  fields["clock"] = clock;
  return fields;
}

std::string EventRoutingKey(const std::string& type) {
  std::string key = type;
  for (char& c : key)
    if (c == '-') c = '.';
  return key;
}

Json WorkerEventFields(double freq, int64_t active, int64_t processed) {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) load[0] = load[1] = load[2] = 0;
  Json loadavg = Json::array();
  for (double l : load) loadavg.push_back(std::ceil(l * 100) / 100);
  return {{"freq", freq},       {"active", active},    {"processed", processed},
          {"loadavg", loadavg}, {"sw_ident", "verdi"}, {"sw_ver", VERDI_VERSION},
          {"sw_sys", "Linux"}};
}

std::string PythonRepr(const Json& value, size_t limit) {
  std::string out;
  AppendRepr(value, &out);
  if (out.size() > limit) out = out.substr(0, limit) + "...";
  return out;
}

}  // namespace verdi
