// Encoding Celery task messages. Decoding is in task_message.cc.
#include "verdi/celery/task_message.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "events/celery_event.h"

namespace verdi {
namespace {

// Celery's argsrepr_maxsize / kwargsrepr_maxsize.
constexpr size_t kReprMax = 1024;

std::string Base64(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16 |
                 static_cast<unsigned char>(bytes[i + 1]) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (size_t left = bytes.size() - i; left > 0) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (left == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void DumpString(const std::string& text, std::string* out) {
  if (!IsValidUtf8(text)) {
    *out += R"({"__type__": "base64", "__value__": ")" + Base64(text) + "\"}";
    return;
  }
  *out += Json(text).dump(-1, ' ', /*ensure_ascii=*/true);
}

void Dump(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::string:
      DumpString(value.get_ref<const std::string&>(), out);
      return;
    case Json::value_t::array: {
      *out += '[';
      bool first = true;
      for (const Json& item : value) {
        if (!first) *out += ", ";
        first = false;
        Dump(item, out);
      }
      *out += ']';
      return;
    }
    case Json::value_t::object: {
      *out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) *out += ", ";
        first = false;
        *out += Json(key).dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
        *out += ": ";
        Dump(item, out);
      }
      *out += '}';
      return;
    }
    case Json::value_t::binary: {
      const auto& bytes = value.get_binary();
      DumpString(std::string(bytes.begin(), bytes.end()), out);
      return;
    }
    case Json::value_t::number_float: {
      double d = value.get<double>();
      if (std::isnan(d)) {
        *out += "NaN";  // Python's json.dumps(allow_nan=True), which json.loads reads back
        return;
      }
      if (std::isinf(d)) {
        *out += d > 0 ? "Infinity" : "-Infinity";
        return;
      }
      break;
    }
    default:
      break;
  }
  *out += value.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
}

Json StringOrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json TimeOrNull(const std::optional<WallClock::time_point>& t) {
  return t ? Json(FormatIsoTime(*t)) : Json(nullptr);
}

// A whole number of seconds as an integer (30, as Python producers write it),
// anything else as a float.
Json LimitOrNull(const std::optional<double>& seconds) {
  if (!seconds) return nullptr;
  double d = *seconds;
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e15)
    return static_cast<int64_t>(d);
  return d;
}

// Celery's saferepr(args): the repr of a tuple, "(1,)" for one item.
std::string TupleRepr(const Json& args) {
  std::string out = "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ", ";
    out += PythonRepr(args[i], std::string::npos);
  }
  if (args.size() == 1) out += ",";
  out += ")";
  if (out.size() > kReprMax) out = out.substr(0, kReprMax) + "...";
  return out;
}

bool IsEmbedKey(const std::string& key) {
  return key == "callbacks" || key == "errbacks" || key == "chain" || key == "chord";
}

// The embed map in Python's key order: callbacks, errbacks, chain, chord,
// then anything else.
std::string DumpEmbed(const Json& embed) {
  static const char* const kKeys[] = {"callbacks", "errbacks", "chain", "chord"};
  std::string out = "{";
  for (const char* key : kKeys) {
    if (out.size() > 1) out += ", ";
    out += fmt::format("\"{}\": ", key);
    const Json* value = embed.is_object() ? FindPath(embed, {key}) : nullptr;
    Dump(value != nullptr ? *value : Json(nullptr), &out);
  }
  if (embed.is_object()) {
    for (const auto& [key, value] : embed.items()) {
      if (IsEmbedKey(key)) continue;
      out += ", ";
      out += Json(key).dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
      out += ": ";
      Dump(value, &out);
    }
  }
  return out + "}";
}

}  // namespace

std::string PyJsonDumps(const Json& value) {
  std::string out;
  Dump(value, &out);
  return out;
}

std::string FormatIsoTime(WallClock::time_point t) {
  using namespace std::chrono;
  // Plain integers from here: mixing units near time_point::min() overflows.
  int64_t micros = floor<microseconds>(t.time_since_epoch()).count();
  auto floor_div = [](int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); };
  int64_t secs = floor_div(micros, 1000000);
  int64_t frac = micros - secs * 1000000;
  int64_t day_count = floor_div(secs, 86400);
  int64_t rest = secs - day_count * 86400;
  year_month_day ymd{sys_days(days(day_count))};
  std::string text =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), rest / 3600,
                  rest / 60 % 60, rest % 60);
  if (frac != 0) text += fmt::format(".{:06}", frac);
  return text + "+00:00";
}

// The body [args, kwargs, embed] as msgpack.packb writes it: the embed map
// in Python's key order (callbacks, errbacks, chain, chord, then the rest).
std::string MsgpackBody(const Json& args, const Json& kwargs, const Json& embed) {
  std::string out = "\x93";  // an array of 3
  out += Serialize(Serializer::kMsgpack, args);
  out += Serialize(Serializer::kMsgpack, kwargs);
  Json rest = Json::object();
  if (embed.is_object())
    for (const auto& [key, value] : embed.items())
      if (!IsEmbedKey(key)) rest[key] = value;
  size_t size = 4 + rest.size();
  if (size < 16) {
    out += static_cast<char>(0x80 | size);  // fixmap
  } else {
    out += '\xde';  // map 16
    out += static_cast<char>(size >> 8 & 0xff);
    out += static_cast<char>(size & 0xff);
  }
  for (const char* key : {"callbacks", "errbacks", "chain", "chord"}) {
    out += Serialize(Serializer::kMsgpack, key);
    const Json* value = embed.is_object() ? FindPath(embed, {key}) : nullptr;
    out += Serialize(Serializer::kMsgpack, value != nullptr ? *value : Json(nullptr));
  }
  for (const auto& [key, value] : rest.items())
    out += Serialize(Serializer::kMsgpack, key) + Serialize(Serializer::kMsgpack, value);
  return out;
}

AmqpOutgoing EncodeTaskMessage(const TaskMessage& task, Serializer serializer) {
  const Json& args = task.args.is_array() ? task.args : Json::array();
  const Json& kwargs = task.kwargs.is_object() ? task.kwargs : Json::object();
  AmqpOutgoing out;
  out.headers = {
      {"lang", "py"},
      {"task", task.task},
      {"id", task.id},
      {"shadow", StringOrNull(task.shadow)},
      {"eta", TimeOrNull(task.eta)},
      {"expires", TimeOrNull(task.expires)},
      {"group", StringOrNull(task.group_id)},
      {"group_index", nullptr},
      {"retries", task.retries},
      {"timelimit",
       Json::array({LimitOrNull(task.hard_time_limit), LimitOrNull(task.soft_time_limit)})},
      {"root_id", task.root_id.empty() ? task.id : task.root_id},
      {"parent_id", StringOrNull(task.parent_id)},
      {"argsrepr", TupleRepr(args)},
      {"kwargsrepr", PythonRepr(kwargs, kReprMax)},
      {"origin", StringOrNull(task.origin)},
      {"ignore_result", task.ignore_result.value_or(false)},
  };
  if (serializer == Serializer::kJson) {
    out.body =
        "[" + PyJsonDumps(args) + ", " + PyJsonDumps(kwargs) + ", " + DumpEmbed(task.embed) + "]";
  } else {
    out.body = MsgpackBody(args, kwargs, task.embed);
  }
  out.content_type = ContentTypeOf(serializer);
  out.content_encoding = ContentEncodingOf(serializer);
  out.correlation_id = task.correlation_id.empty() ? task.id : task.correlation_id;
  out.reply_to = task.reply_to;
  return out;
}

Json ExceptionResult(const std::string& exc_type, const std::string& exc_module,
                     const std::string& message) {
  return {
      {"exc_type", exc_type}, {"exc_message", Json::array({message})}, {"exc_module", exc_module}};
}

}  // namespace verdi
