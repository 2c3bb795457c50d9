// Linting datasets.json (HySDS's publish rules): types, regexes, templates.
#include "jobspec/linter.h"

#include <algorithm>

namespace verdi::lint {
namespace {

// The keys each kind of object may have (as HySDS reads them).
const Keys kDatasetsKeys = {"datasets"};
const Keys kDatasetKeys = {"ipath",         "version",           "level",     "type",
                           "match_pattern", "alt_match_pattern", "extractor", "publish",
                           "browse",        "priority",          "index"};
const Keys kPublishKeys = {"location",   "urls",          "s3-profile-name",
                           "s3-api-key", "s3-secret-key", "s3-acl"};
const Keys kBrowseKeys = {"location",      "urls",   "s3-profile-name", "s3-api-key",
                          "s3-secret-key", "s3-acl", "sort_order"};

}  // namespace

// ---- datasets.json ----------------------------------------------------------

// Python str.format fields of `text` must name something that exists.
// `names` is null when a pattern did not compile: its groups are unknown.
static void LintTemplate(Linter& l, const std::string& text, const std::string& path,
                         const std::set<std::string>* names) {
  static const std::set<std::string> kBuiltins = {"version",  "level",   "type",
                                                  "hostname", "dataset", "met"};
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        ++i;
        continue;
      }
      l.Error(path, "single `}` (expected `}}` for a literal brace)");
      return;
    }
    if (c != '{') continue;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      ++i;
      continue;
    }
    // The field runs to the matching '}' (a format spec may nest one level).
    size_t depth = 1, j = i + 1;
    for (; j < text.size() && depth > 0; ++j) {
      if (text[j] == '{') ++depth;
      if (text[j] == '}') --depth;
    }
    if (depth > 0) {
      l.Error(path, "unclosed `{` (expected `{name}`, or `{{` for a literal brace)");
      return;
    }
    std::string field = text.substr(i + 1, j - i - 2);
    std::string name = field.substr(0, field.find_first_of(".[!:"));
    bool dollar = i > 0 && text[i - 1] == '$';
    i = j - 1;
    if (name.empty() || std::all_of(name.begin(), name.end(), ::isdigit)) {
      l.Error(path, fmt::format("`{{{}}}` is a positional field, never given (expected a named "
                                "field such as `{{version}}`)",
                                field));
      continue;
    }
    if (names != nullptr && !names->contains(name) && !kBuiltins.contains(name)) {
      l.Error(path, fmt::format("`{{{}}}` names a field that can never exist (expected a named "
                                "group of match_pattern or alt_match_pattern, or version, level, "
                                "type, hostname, dataset[...], met[...])",
                                field));
      continue;
    }
    if (dollar)
      l.Warn(path, fmt::format("`${{{}}}` leaves a stray `$` under str.format (expected `{{{}}}`)",
                               field, field));
  }
}

static void LintLocation(Linter& l, const Json& entry, const std::string& path,
                         std::string_view key, const Keys& known,
                         const std::set<std::string>* names) {
  if (!l.Object(entry, path, key)) return;
  const Json& obj = entry[std::string(key)];
  std::string p = Linter::Sub(path, key);
  if (l.String(obj, p, "location", true))
    LintTemplate(l, obj["location"].get<std::string>(), Linter::Sub(p, "location"), names);
  l.StringList(obj, p, "urls");
  if (const Json* urls = Member(obj, "urls"); urls != nullptr && urls->is_array())
    for (size_t i = 0; i < urls->size(); ++i)
      if ((*urls)[i].is_string())
        LintTemplate(l, (*urls)[i].get<std::string>(), Linter::Index(Linter::Sub(p, "urls"), i),
                     names);
  for (std::string_view k : {"s3-profile-name", "s3-api-key", "s3-secret-key", "s3-acl"})
    l.String(obj, p, k);
  if (&known == &kBrowseKeys) {
    l.StringList(obj, p, "sort_order");
    if (const Json* order = Member(obj, "sort_order"); order != nullptr && order->is_array())
      for (size_t i = 0; i < order->size(); ++i)
        if ((*order)[i].is_string())
          l.RegexValue((*order)[i].get<std::string>(),
                       Linter::Index(Linter::Sub(p, "sort_order"), i), nullptr);
  }
  l.UnknownKeys(obj, p, known);
}

void LintDatasetsAt(Linter& l, const Json& doc, const std::string& root) {
  if (!l.Expect(&doc, root, true, IsObject, "an object {\"datasets\": [...]}")) return;
  const Json* list = Member(doc, "datasets");
  std::string lp = Linter::Sub(root, "datasets");
  if (l.Expect(list, lp, true, IsArray, "a list of dataset entries")) {
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& entry = (*list)[i];
      std::string p = Linter::Index(lp, i);
      if (!l.Expect(&entry, p, true, IsObject, "a dataset entry object")) continue;
      std::set<std::string> groups;
      int errors = l.errors();
      l.Regex(entry, p, "match_pattern", &groups, true);
      l.Regex(entry, p, "alt_match_pattern", &groups);
      const std::set<std::string>* names = l.errors() == errors ? &groups : nullptr;
      if (l.String(entry, p, "ipath", true)) {
        std::string ipath = entry["ipath"].get<std::string>();
        if (ipath.find('/') == std::string::npos)
          l.Error(Linter::Sub(p, "ipath"),
                  fmt::format("got \"{}\" (expected \"<type>::<path>/<dataset>\", such as "
                              "\"hysds::data/area_of_interest\")",
                              ipath));
        LintTemplate(l, ipath, Linter::Sub(p, "ipath"), names);
      }
      for (std::string_view key : {"version", "level", "type", "extractor"})
        l.String(entry, p, key);
      LintLocation(l, entry, p, "publish", kPublishKeys, names);
      LintLocation(l, entry, p, "browse", kBrowseKeys, names);
      l.Int(entry, p, "priority");
      l.UnknownKeys(entry, p, kDatasetKeys);
    }
  }
  l.UnknownKeys(doc, root, kDatasetsKeys);
}

}  // namespace verdi::lint
