#include "verdi/celery/serializer.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "events/msgpack_writer.h"
#include "verdi/celery/task_message.h"

namespace verdi {
namespace {

std::string Normalized(std::string_view name) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!name.empty() && space(name.front())) name.remove_prefix(1);
  while (!name.empty() && space(name.back())) name.remove_suffix(1);
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool AllUtf8(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return IsValidUtf8(value.get_ref<const std::string&>());
    case Json::value_t::array:
      return std::all_of(value.begin(), value.end(), AllUtf8);
    case Json::value_t::object:
      for (const auto& [key, item] : value.items())
        if (!IsValidUtf8(key) || !AllUtf8(item)) return false;
      return true;
    default:
      return true;
  }
}

// A copy of `value` in which strings that are not UTF-8 are binary values
// and map keys that are not have their bad bytes replaced.
Json BytesAsBinary(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      if (IsValidUtf8(s)) return value;
      return Json::binary(std::vector<uint8_t>(s.begin(), s.end()));
    }
    case Json::value_t::array: {
      Json out = Json::array();
      for (const Json& item : value) out.push_back(BytesAsBinary(item));
      return out;
    }
    case Json::value_t::object: {
      Json out = Json::object();
      for (const auto& [key, item] : value.items()) {
        std::string k =
            IsValidUtf8(key)
                ? key
                : Json::parse(Json(key).dump(-1, ' ', false, Json::error_handler_t::replace))
                      .get<std::string>();
        out[k] = BytesAsBinary(item);
      }
      return out;
    }
    default:
      return value;
  }
}

}  // namespace

Status ParseSerializer(std::string_view name, std::string_view setting, Serializer* out) {
  std::string n = Normalized(name);
  if (n == "json" || n == "application/json") {
    *out = Serializer::kJson;
    return Status::OK();
  }
  if (n == "msgpack" || n == "application/x-msgpack") {
    *out = Serializer::kMsgpack;
    return Status::OK();
  }
  if (n == "pickle" || n == "application/x-python-serialize")
    return Status::Invalid(fmt::format(
        "{}: {} is refused: verdi never pickles or unpickles (json or msgpack)", setting, n));
  return Status::Invalid(fmt::format("{}: {} is not supported (json or msgpack)", setting,
                                     DescribeJson(Json(std::string(name)))));
}

Status ParseSerializerList(std::string_view names, std::string_view setting,
                           std::vector<Serializer>* out) {
  out->clear();
  while (!names.empty()) {
    size_t comma = names.find_first_of(", ");
    std::string_view name = names.substr(0, comma);
    names = comma == std::string_view::npos ? "" : names.substr(comma + 1);
    if (Normalized(name).empty()) continue;
    Serializer s;
    VERDI_RETURN_IF_ERROR(ParseSerializer(name, setting, &s));
    if (std::find(out->begin(), out->end(), s) == out->end()) out->push_back(s);
  }
  if (out->empty())
    return Status::Invalid(fmt::format("{}: no serializer given (json, msgpack or both)", setting));
  return Status::OK();
}

const char* SerializerName(Serializer serializer) {
  return serializer == Serializer::kJson ? "json" : "msgpack";
}

const char* ContentTypeOf(Serializer serializer) {
  return serializer == Serializer::kJson ? "application/json" : "application/x-msgpack";
}

const char* ContentEncodingOf(Serializer serializer) {
  return serializer == Serializer::kJson ? "utf-8" : "binary";
}

std::string Serialize(Serializer serializer, const Json& value) {
  if (serializer == Serializer::kJson) return PyJsonDumps(value);
  return PackMsgpack(AllUtf8(value) ? value : BytesAsBinary(value));
}

}  // namespace verdi
