#include "verdi/celery/result_document.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace verdi {

std::string EncodeResult(Serializer serializer, const std::string& task_id,
                         const std::string& state, const Json& result, const Json& traceback,
                         const TaskMessage* request, WallClock::time_point date_done) {
  bool ready = state == "SUCCESS" || state == "FAILURE" || state == "REVOKED";
  // Each child as Celery's AsyncResult.as_tuple(): [[id, parent], None].
  Json children = nullptr;
  if (request != nullptr) {
    children = Json::array();
    for (const std::string& id : request->children)
      children.push_back(Json::array({Json::array({id, nullptr}), nullptr}));
  }
  std::vector<std::pair<const char*, Json>> meta = {
      {"status", state},
      {"result", result},
      {"traceback", traceback},
      {"children", children},
      {"date_done", ready ? Json(FormatIsoTime(date_done)) : Json(nullptr)}};
  if (request != nullptr && !request->group_id.empty())
    meta.emplace_back("group_id", request->group_id);
  if (request != nullptr && !request->parent_id.empty())
    meta.emplace_back("parent_id", request->parent_id);
  meta.emplace_back("task_id", task_id);

  // Python's dict order, in either serializer.
  std::string out;
  if (serializer == Serializer::kJson) {
    for (const auto& [key, value] : meta)
      out += (out.empty() ? "{\"" : ", \"") + std::string(key) + "\": " + PyJsonDumps(value);
    return out + "}";
  }
  out.push_back(static_cast<char>(0x80 | meta.size()));  // a fixmap: at most 8 fields
  for (const auto& [key, value] : meta)
    out += Serialize(serializer, key) + Serialize(serializer, value);
  return out;
}

Status DecodeResult(std::string_view stored, const std::vector<Serializer>& accept, Json* doc) {
  size_t start = stored.find_first_not_of(" \t\r\n");
  auto first = static_cast<unsigned char>(stored.empty() ? 0 : stored[0]);
  Serializer found;
  if (start != std::string_view::npos && stored[start] == '{') {
    found = Serializer::kJson;
  } else if ((first & 0xf0) == 0x80 || first == 0xde || first == 0xdf) {
    found = Serializer::kMsgpack;
  } else {
    return Status::Invalid("the stored result is neither a JSON object nor a msgpack map");
  }
  if (std::find(accept.begin(), accept.end(), found) == accept.end()) {
    std::string names;
    for (Serializer s : accept) names += std::string(names.empty() ? "" : ", ") + SerializerName(s);
    return Status::Invalid(
        fmt::format("the stored result is {}, which result_accept_content ({}) does not accept",
                    SerializerName(found), names));
  }
  return DecodeMessageBody(ContentTypeOf(found), nullptr, stored, DecodeLimits(), doc)
      .WithPrefix("the stored result");
}

std::string ResultState(const Json& doc) {
  if (!doc.is_object()) return "";
  auto it = doc.find("status");
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace verdi
