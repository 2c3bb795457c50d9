// datasets.json (HYSDS_DATASETS_CFG): which rule a product falls under.
// {"datasets": [entry, ...]}; the first entry whose match_pattern (and
// alt_match_pattern, when set) matches wins, as in HySDS.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobspec/json_field.h"
#include "jobspec/python_regex.h"

namespace verdi::publish {

/// Where a product (or its browse images) goes: templates, filled later.
struct Destination {
  std::string location;                 // the product's directory URL
  std::vector<std::string> urls;        // what the document advertises
  std::vector<std::string> sort_order;  // browse only: image order (regexes)
};

struct DatasetRule {
  std::string where;                 // "<file> datasets[N] (ipath X)", for messages
  std::string ipath;                 // e.g. hysds::data/area_of_interest
  std::string version, level, type;  // from the entry ("" when absent)
  PythonRegex match, alt_match;
  bool has_alt_match = false;
  std::optional<std::string> extractor;
  std::optional<Destination> publish, browse;
  Json index;  // the entry's "index", or null
  /// The part of ipath after the first '/' (the document's "dataset").
  std::string dataset() const { return ipath.substr(ipath.find('/') + 1); }
};

class DatasetsConfig {
 public:
  /// Reads and checks the file; Invalid names the file and the JSON path.
  static Status Load(const std::string& path, DatasetsConfig* out);
  static Status Parse(const Json& doc, const std::string& file, DatasetsConfig* out);

  /// The first rule matching the product directory `dir` (its path, or for
  /// alt_match_pattern the path or a name inside it), with the named groups
  /// of both patterns; null when none matches.
  const DatasetRule* Match(const std::filesystem::path& dir,
                           std::map<std::string, std::string>* groups) const;

  const std::vector<DatasetRule>& rules() const { return rules_; }

 private:
  std::vector<DatasetRule> rules_;
};

}  // namespace verdi::publish
