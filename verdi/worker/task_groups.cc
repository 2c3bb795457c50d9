#include "verdi/worker/task_groups.h"

#include <fmt/format.h>

#include "jobspec/json_field.h"

namespace verdi {
namespace {

Status SplitNames(const std::string& text, const std::string& where,
                  std::vector<std::string>* names) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.empty()) return Status::Invalid(where + ": an empty queue name in \"" + text + "\"");
    names->push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::OK();
}

}  // namespace

Status ReadTaskGroups(const std::string& path, TaskGroups* groups) {
  Json doc;
  VERDI_RETURN_IF_ERROR(ReadJsonFile(path, &doc));
  if (!doc.is_object())
    return Status::Invalid(fmt::format("{}: expected an object mapping groups to queues, got {}",
                                       path, DescribeJson(doc)));
  TaskGroups out;
  for (const auto& [name, value] : doc.items()) {
    std::string where = fmt::format("{}: {}", path, name);
    std::vector<std::string>& queues = out[name];
    if (value.is_string()) {
      VERDI_RETURN_IF_ERROR(SplitNames(value.get<std::string>(), where, &queues));
    } else if (value.is_array()) {
      for (const Json& q : value) {
        if (!q.is_string() || q.get<std::string>().empty())
          return Status::Invalid(
              fmt::format("{}: expected queue names, got {}", where, DescribeJson(q)));
        queues.push_back(q.get<std::string>());
      }
    } else {
      return Status::Invalid(
          fmt::format("{}: expected a list of queues, got {}", where, DescribeJson(value)));
    }
  }
  *groups = std::move(out);
  return Status::OK();
}

Status GroupQueues(const TaskGroups& groups, const std::string& group, const std::string& path,
                   std::vector<std::string>* queues) {
  auto it = groups.find(group);
  if (it == groups.end()) {
    std::string known;
    for (const auto& [name, q] : groups) known += (known.empty() ? "" : ", ") + name;
    return Status::Invalid(fmt::format("--group {}: no such group in {} (it has: {})", group, path,
                                       known.empty() ? "none" : known));
  }
  if (it->second.empty())
    return Status::Invalid(fmt::format("--group {}: {} gives it no queue", group, path));
  *queues = it->second;
  return Status::OK();
}

}  // namespace verdi
