#include "verdi/cli/config_file.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "base/files.h"
#include "verdi/cli/celery_setting_names.h"
#include "verdi/cli/python_config.h"

namespace verdi {

std::string ConfigFile::Where(const std::string& name) const {
  auto it = entries.find(name);
  if (it == entries.end() || it->second.line == 0) return fmt::format("{}: {}", path, name);
  const ConfigEntry& e = it->second;
  return fmt::format("{}:{}:{}: {}", path, e.line, e.column, e.name_in_file);
}

std::string FindConfigModule(const std::string& module) {
  auto ends_with = [&](std::string_view suffix) {
    return module.size() >= suffix.size() &&
           module.compare(module.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (std::filesystem::is_regular_file(module)) return module;
  if (module.find('/') != std::string::npos || ends_with(".py") || ends_with(".json")) return "";
  std::string relative = module;
  std::replace(relative.begin(), relative.end(), '.', '/');
  relative += ".py";
  std::vector<std::string> dirs = {"."};
  if (const char* path = std::getenv("PYTHONPATH")) {
    std::string list = path;
    for (size_t start = 0; start <= list.size();) {
      size_t colon = list.find(':', start);
      if (colon == std::string::npos) colon = list.size();
      if (colon > start) dirs.push_back(list.substr(start, colon - start));
      start = colon + 1;
    }
  }
  for (const auto& dir : dirs) {
    std::filesystem::path candidate = std::filesystem::path(dir) / relative;
    if (std::filesystem::is_regular_file(candidate))
      return dir == "." ? relative : candidate.string();
  }
  return "";
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
}

Status ParseConfigText(const std::string& text, const std::string& where, const EnvLookup& env,
                       ConfigFile* out) {
  *out = ConfigFile();
  out->path = where;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    Json doc;
    VERDI_RETURN_IF_ERROR(ParseJsonText(text, where, &doc));
    for (const auto& [key, value] : doc.items()) out->entries[key] = {value, "", 0, 0, key};
  } else {
    PythonConfig python;
    VERDI_RETURN_IF_ERROR(EvaluatePythonConfig(text, where, env, &python));
    for (auto& [name, s] : python.settings)
      out->entries[name] = {std::move(s.value), std::move(s.error), s.line, s.column, name};
    out->notes = std::move(python.skipped);
  }
  std::vector<std::string> names;
  for (const auto& [name, entry] : out->entries) names.push_back(name);
  std::map<std::string, std::string> renamed, unread;
  VERDI_RETURN_IF_ERROR(DetectCelerySettings(names, &renamed, &unread).WithPrefix(where));
  for (const auto& [name, winner] : unread) {
    const ConfigEntry& e = out->entries[name];
    out->notes.push_back(fmt::format("{}{}: not read by Celery, which reads {} instead",
                                     e.line > 0 ? fmt::format("{}:{}: ", e.line, e.column) : "",
                                     name, winner));
    out->entries.erase(name);
  }
  for (const auto& [old_name, new_name] : renamed) {
    auto node = out->entries.extract(old_name);
    node.key() = new_name;
    out->entries.insert(std::move(node));
  }
  return Status::OK();
}

Status ReadConfigFile(const std::string& path, const EnvLookup& env, ConfigFile* out) {
  std::string text;
  VERDI_RETURN_IF_ERROR(ReadFileToString(path, &text));
  return ParseConfigText(text, path, env, out);
}

}  // namespace verdi
