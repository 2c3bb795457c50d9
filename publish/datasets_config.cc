#include "publish/datasets_config.h"

#include <algorithm>

#include <fmt/format.h>

namespace verdi::publish {
namespace fs = std::filesystem;

namespace {

Status OptString(const Json& obj, const std::string& key, const std::string& where,
                 std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::OK();
  if (!it->is_string())
    return Status::Invalid(
        fmt::format("{}.{}: got {} (expected a string)", where, key, DescribeJson(*it)));
  *out = it->get<std::string>();
  return Status::OK();
}

Status StringList(const Json& obj, const std::string& key, const std::string& where,
                  std::vector<std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::OK();
  std::string what = fmt::format("{}.{}", where, key);
  if (!it->is_array()) return Status::Invalid(what + ": expected a list of strings");
  for (const Json& v : *it) {
    if (!v.is_string()) return Status::Invalid(what + ": expected a list of strings");
    out->push_back(v.get<std::string>());
  }
  return Status::OK();
}

Status ParseDestination(const Json& entry, const std::string& key, const std::string& where,
                        std::optional<Destination>* out) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return Status::OK();
  std::string p = fmt::format("{}.{}", where, key);
  if (!it->is_object()) return Status::Invalid(p + ": expected an object");
  Destination d;
  VERDI_RETURN_IF_ERROR(OptString(*it, "location", p, &d.location));
  if (d.location.empty()) return Status::Invalid(p + ".location: is missing");
  VERDI_RETURN_IF_ERROR(StringList(*it, "urls", p, &d.urls));
  VERDI_RETURN_IF_ERROR(StringList(*it, "sort_order", p, &d.sort_order));
  *out = std::move(d);
  return Status::OK();
}

}  // namespace

Status DatasetsConfig::Load(const std::string& path, DatasetsConfig* out) {
  Json doc;
  VERDI_RETURN_IF_ERROR(ReadJsonFile(path, &doc));
  return Parse(doc, path, out);
}

Status DatasetsConfig::Parse(const Json& doc, const std::string& file, DatasetsConfig* out) {
  DatasetsConfig config;
  if (!doc.is_object() || !doc.contains("datasets") || !doc["datasets"].is_array())
    return Status::Invalid(file + ": expected an object {\"datasets\": [...]}");
  const Json& list = doc["datasets"];
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& entry = list[i];
    std::string path = fmt::format("{}: datasets[{}]", file, i);
    if (!entry.is_object()) return Status::Invalid(path + ": expected a dataset entry object");
    DatasetRule rule;
    VERDI_RETURN_IF_ERROR(OptString(entry, "ipath", path, &rule.ipath));
    if (rule.ipath.find('/') == std::string::npos)
      return Status::Invalid(path + ".ipath: expected \"<type>::<path>/<dataset>\"");
    rule.where = fmt::format("{} (ipath {})", path, rule.ipath);
    VERDI_RETURN_IF_ERROR(OptString(entry, "version", path, &rule.version));
    VERDI_RETURN_IF_ERROR(OptString(entry, "level", path, &rule.level));
    VERDI_RETURN_IF_ERROR(OptString(entry, "type", path, &rule.type));
    std::string pattern;
    VERDI_RETURN_IF_ERROR(OptString(entry, "match_pattern", path, &pattern));
    if (pattern.empty()) return Status::Invalid(path + ".match_pattern: is missing");
    VERDI_RETURN_IF_ERROR(PythonRegex::Compile(pattern, path + ".match_pattern", &rule.match));
    std::string alt;
    VERDI_RETURN_IF_ERROR(OptString(entry, "alt_match_pattern", path, &alt));
    if (!alt.empty()) {
      VERDI_RETURN_IF_ERROR(
          PythonRegex::Compile(alt, path + ".alt_match_pattern", &rule.alt_match));
      rule.has_alt_match = true;
    }
    std::string extractor;
    VERDI_RETURN_IF_ERROR(OptString(entry, "extractor", path, &extractor));
    if (!extractor.empty()) rule.extractor = extractor;
    VERDI_RETURN_IF_ERROR(ParseDestination(entry, "publish", path, &rule.publish));
    VERDI_RETURN_IF_ERROR(ParseDestination(entry, "browse", path, &rule.browse));
    rule.index = entry.value("index", Json());
    config.rules_.push_back(std::move(rule));
  }
  *out = std::move(config);
  return Status::OK();
}

const DatasetRule* DatasetsConfig::Match(const fs::path& dir,
                                         std::map<std::string, std::string>* groups) const {
  const std::string path = dir.string();
  for (const DatasetRule& rule : rules_) {
    std::map<std::string, std::string> found;
    if (!rule.match.Search(path, &found)) continue;
    if (rule.has_alt_match) {
      bool alt = rule.alt_match.Search(path, &found);
      if (!alt) {
        std::vector<std::string> names;
        std::error_code ec;
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
             it.increment(ec))
          names.push_back(it->path().filename().string());
        std::sort(names.begin(), names.end());
        for (const auto& name : names)
          if ((alt = rule.alt_match.Search(name, &found))) break;
      }
      if (!alt) continue;
    }
    *groups = std::move(found);
    return &rule;
  }
  return nullptr;
}

}  // namespace verdi::publish
