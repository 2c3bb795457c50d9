#include "jobspec/lint.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "jobspec/disk_usage.h"
#include "jobspec/hysds_io.h"
#include "jobspec/job.h"
#include "jobspec/job_id.h"
#include "jobspec/job_spec.h"
#include "jobspec/shell_words.h"
#include "jobspec/worker_config.h"

namespace verdi {
namespace {

using Keys = std::vector<std::string_view>;

// The keys each kind of object may have (HySDS reference §1.2, §1.3, §2.1,
// §2.2, §2.4, §4.7).
const Keys kJobSpecKeys = {"command",
                           "params",
                           "disk_usage",
                           "soft_time_limit",
                           "time_limit",
                           "imported_worker_files",
                           "dependency_images",
                           "recommended-queues",
                           "required_queues",
                           "runtime_options",
                           "pre",
                           "disable_pre_builtins",
                           "post",
                           "disable_post_builtins"};
const Keys kJobSpecParamKeys = {"name", "destination"};
const Keys kDependencyImageKeys = {"container_image_name", "container_image_url",
                                   "container_mappings", "runtime_options"};
const Keys kHysdsIoKeys = {"label",        "component",        "submission_type",
                           "enable_dedup", "allowed_accounts", "params",
                           "action-type"};
const Keys kHysdsIoParamKeys = {"name",    "from",         "value",       "type",
                                "default", "optional",     "placeholder", "enumerables",
                                "lambda",  "version_regex"};
const Keys kDatasetsKeys = {"datasets"};
const Keys kDatasetKeys = {"ipath",         "version",           "level",     "type",
                           "match_pattern", "alt_match_pattern", "extractor", "publish",
                           "browse",        "priority",          "index"};
const Keys kPublishKeys = {"location",   "urls",          "s3-profile-name",
                           "s3-api-key", "s3-secret-key", "s3-acl"};
const Keys kBrowseKeys = {"location",      "urls",   "s3-profile-name", "s3-api-key",
                          "s3-secret-key", "s3-acl", "sort_order"};
const Keys kJobKeys = {"job_id",
                       "name",
                       "type",
                       "params",
                       "localize_urls",
                       "context",
                       "container_image_name",
                       "container_image_url",
                       "container_image_urls",
                       "container_mappings",
                       "runtime_options",
                       "priority",
                       "tag",
                       "username",
                       "task_id",
                       "job_info",
                       "retry_count",
                       "delivery_info",
                       "command",
                       "container_image_id",
                       "dependency_images",
                       "publish_overwrite_ok"};
const Keys kJobInfoKeys = {"id",
                           "job_queue",
                           "time_queued",
                           "index",
                           "time_limit",
                           "soft_time_limit",
                           "payload_hash",
                           "dedup",
                           "job_payload",
                           "job_dir",
                           "metrics",
                           "facts",
                           "execute_node",
                           "public_ip",
                           "job_url",
                           "context_file",
                           "datasets_cfg_file",
                           "time_start",
                           "cmd_start",
                           "cmd_end",
                           "cmd_duration",
                           "status",
                           "stdout",
                           "stderr",
                           "pid",
                           "time_end",
                           "duration"};
const Keys kLocalizeUrlKeys = {"url", "local_path", "cache"};
const Keys kWorkerConfigKeys = {"root_work_dir", "webdav_port", "webdav_url", "configs"};
const Keys kTypeConfigKeys = {"type",
                              "command",
                              "disk_usage",
                              "dependency_images",
                              "container_image_name",
                              "container_image_url",
                              "container_image_urls",
                              "container_mappings",
                              "runtime_options"};
const Keys kCommandKeys = {"path", "options", "arguments", "env"};
const Keys kEnvKeys = {"key", "value"};

const Keys kHysdsIoTypes = {
    "text",   "number",          "datetime",       "date",   "boolean",
    "enum",   "email",           "textarea",       "region", "container_version",
    "object", "jobspec_version", "hysdsio_version"};

// verdi's default grace between SIGTERM and SIGKILL (run_job --kill-grace).
constexpr int64_t kKillGrace = 5;

const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool IsString(const Json& v) { return v.is_string(); }
bool IsObject(const Json& v) { return v.is_object(); }
bool IsArray(const Json& v) { return v.is_array(); }
bool IsBool(const Json& v) { return v.is_boolean(); }
bool IsInt(const Json& v) { return v.is_number_integer(); }

// Compiles a Python regex with PCRE2; on success the named groups are added
// to `names`, else `error` says why.
bool CompileRegex(const std::string& pattern, std::string* error, std::set<std::string>* names) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_ALT_BSUX, &code, &offset, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof buffer);
    *error = fmt::format("{} at offset {}", reinterpret_cast<const char*>(buffer), offset);
    return false;
  }
  uint32_t count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
  for (uint32_t i = 0; i < count && names != nullptr; ++i)
    names->insert(reinterpret_cast<const char*>(table + i * entry_size + 2));
  pcre2_code_free(re);
  return true;
}

int Levenshtein(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Normalize(std::string_view key) {
  std::string out;
  for (char c : key) out += c == '-' ? '_' : static_cast<char>(std::tolower(c));
  return out;
}

// Collects findings about one file.
class Linter {
 public:
  Linter(const std::string& file, std::vector<Finding>* out) : file_(file), out_(out) {}

  void Error(const std::string& path, std::string message) {
    out_->push_back({Finding::kError, file_, path, std::move(message)});
    ++errors_;
  }
  void Warn(const std::string& path, std::string message) {
    out_->push_back({Finding::kWarning, file_, path, std::move(message)});
  }
  int errors() const { return errors_; }

  // A Status from one of the parsers ("path: what") as an error.
  void ErrorFromStatus(const Status& status) {
    const std::string& m = status.message();
    size_t colon = m.find(": ");
    if (colon == std::string::npos) {
      Error("", m);
    } else {
      Error(m.substr(0, colon), m.substr(colon + 2));
    }
  }

  // True when `v` is present, not null and passes `is`; otherwise reports
  // a missing required value or a wrong type.
  bool Expect(const Json* v, const std::string& path, bool required, bool (*is)(const Json&),
              std::string_view expected) {
    if (v == nullptr || (v->is_null() && !required)) {
      if (required) Error(path, fmt::format("is missing (expected {})", expected));
      return false;
    }
    if (!is(*v)) {
      Error(path, fmt::format("got {} (expected {})", DescribeJson(*v), expected));
      return false;
    }
    return true;
  }
  bool String(const Json& obj, const std::string& path, std::string_view key,
              bool required = false) {
    return Expect(Member(obj, key), Sub(path, key), required, IsString, "a string");
  }
  bool Object(const Json& obj, const std::string& path, std::string_view key,
              bool required = false) {
    return Expect(Member(obj, key), Sub(path, key), required, IsObject, "an object");
  }
  bool Bool(const Json& obj, const std::string& path, std::string_view key) {
    return Expect(Member(obj, key), Sub(path, key), false, IsBool, "true or false");
  }
  bool Int(const Json& obj, const std::string& path, std::string_view key) {
    return Expect(Member(obj, key), Sub(path, key), false, IsInt, "an integer");
  }
  void StringList(const Json& obj, const std::string& path, std::string_view key,
                  bool required = false) {
    const Json* v = Member(obj, key);
    std::string p = Sub(path, key);
    if (!Expect(v, p, required, IsArray, "a list of strings")) return;
    for (size_t i = 0; i < v->size(); ++i)
      Expect(&(*v)[i], Index(p, i), true, IsString, "a string");
  }
  // A limit in seconds: an integer, 0 or more.
  std::optional<int64_t> Seconds(const Json& obj, const std::string& path, std::string_view key) {
    if (!Int(obj, path, key)) return std::nullopt;
    int64_t s = Member(obj, key)->get<int64_t>();
    if (s < 0) {
      Error(Sub(path, key), fmt::format("got {} (expected a number of seconds, 0 or more)", s));
      return std::nullopt;
    }
    return s;
  }
  void DiskUsage(const Json& obj, const std::string& path, std::string_view key) {
    if (!String(obj, path, key)) return;
    uint64_t bytes = 0;
    std::string p = Sub(path, key);
    Status st = ParseDiskUsage(Member(obj, key)->get<std::string>(), p, &bytes);
    if (!st.ok()) ErrorFromStatus(st);
  }
  // One of `choices` (a string).
  void Choice(const Json& obj, const std::string& path, std::string_view key, const Keys& choices,
              bool required = false) {
    std::string expected;
    for (size_t i = 0; i < choices.size(); ++i)
      expected += fmt::format("{}\"{}\"",
                              i == 0                    ? ""
                              : i + 1 == choices.size() ? " or "
                                                        : ", ",
                              choices[i]);
    const Json* v = Member(obj, key);
    if (!Expect(v, Sub(path, key), required, IsString, expected)) return;
    std::string text = v->get<std::string>();
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) return;
    Error(Sub(path, key), fmt::format("got \"{}\" (expected {})", text, expected));
  }
  // Warns about each key of `obj` that is not in `known`.
  void UnknownKeys(const Json& obj, const std::string& path, const Keys& known) {
    if (!obj.is_object()) return;
    for (const auto& [key, value] : obj.items()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string near = NearestKey(key, known);
      Warn(Sub(path, key), near.empty()
                               ? fmt::format("unknown key `{}` (not read by HySDS or verdi)", key)
                               : fmt::format("unknown key `{}` (did you mean `{}`?)", key, near));
    }
  }
  // An optional regex (Python syntax) that must compile.
  void Regex(const Json& obj, const std::string& path, std::string_view key,
             std::set<std::string>* names, bool required = false) {
    if (!String(obj, path, key, required)) return;
    RegexValue(Member(obj, key)->get<std::string>(), Sub(path, key), names);
  }
  void RegexValue(const std::string& pattern, const std::string& path,
                  std::set<std::string>* names) {
    std::string why;
    if (!CompileRegex(pattern, &why, names))
      Error(path,
            fmt::format("regex does not compile: {} (expected a Python regular expression)", why));
  }

  static std::string Sub(const std::string& path, std::string_view key) {
    return fmt::format("{}.{}", path, key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return fmt::format("{}[{}]", path, i);
  }

 private:
  const std::string& file_;
  std::vector<Finding>* out_;
  int errors_ = 0;
};

// ---- job-spec ---------------------------------------------------------------

// host path -> container path, or [container path, "ro" or "rw"].
void LintMounts(Linter& l, const Json& obj, const std::string& path, std::string_view key) {
  if (!l.Object(obj, path, key)) return;
  std::string p = Linter::Sub(path, key);
  for (const auto& [host, target] : Member(obj, key)->items()) {
    std::string tp = Linter::Sub(p, host);
    if (target.is_string()) continue;
    if (!target.is_array() || target.empty() || target.size() > 2 || !target[0].is_string()) {
      l.Error(tp, fmt::format("got {} (expected a container path, or [container path, \"ro\" or "
                              "\"rw\"])",
                              DescribeJson(target)));
    } else if (target.size() == 2 && target[1] != "ro" && target[1] != "rw") {
      l.Error(Linter::Index(tp, 1),
              fmt::format("got {} (expected \"ro\" or \"rw\")", DescribeJson(target[1])));
    }
  }
}

void LintDependencyImages(Linter& l, const Json& obj, const std::string& path) {
  const Json* deps = Member(obj, "dependency_images");
  std::string p = Linter::Sub(path, "dependency_images");
  if (!l.Expect(deps, p, false, IsArray, "a list of objects")) return;
  for (size_t i = 0; i < deps->size(); ++i) {
    const Json& dep = (*deps)[i];
    std::string dp = Linter::Index(p, i);
    if (!l.Expect(&dep, dp, true, IsObject, "an object")) continue;
    l.String(dep, dp, "container_image_name", true);
    l.String(dep, dp, "container_image_url");
    LintMounts(l, dep, dp, "container_mappings");
    l.Object(dep, dp, "runtime_options");
    l.UnknownKeys(dep, dp, kDependencyImageKeys);
  }
}

// time_limit must leave the kill grace after soft_time_limit.
void LintLimits(Linter& l, const Json& obj, const std::string& path) {
  std::optional<int64_t> soft = l.Seconds(obj, path, "soft_time_limit");
  std::optional<int64_t> hard = l.Seconds(obj, path, "time_limit");
  if (soft && hard && *soft > 0 && *hard > 0 && *hard < *soft + kKillGrace)
    l.Warn(Linter::Sub(path, "time_limit"),
           fmt::format("{} leaves {} s after soft_time_limit {}, no room for the {} s gap "
                       "between SIGTERM and SIGKILL (expected {} or more)",
                       *hard, *hard - *soft, *soft, kKillGrace, *soft + kKillGrace));
}

void LintJobSpecAt(Linter& l, const Json& doc, const std::string& root) {
  if (!l.Expect(&doc, root, true, IsObject, "a job-spec object")) return;
  l.String(doc, root, "command", true);
  const Json* params = Member(doc, "params");
  std::string pp = Linter::Sub(root, "params");
  if (l.Expect(params, pp, true, IsArray, "a list of {name, destination}")) {
    std::set<std::string> names;
    for (size_t i = 0; i < params->size(); ++i) {
      const Json& param = (*params)[i];
      std::string p = Linter::Index(pp, i);
      if (!l.Expect(&param, p, true, IsObject, "an object {name, destination}")) continue;
      if (l.String(param, p, "name", true) &&
          !names.insert(param["name"].get<std::string>()).second)
        l.Warn(Linter::Sub(p, "name"), fmt::format("repeated param `{}` (expected each name once)",
                                                   param["name"].get<std::string>()));
      l.Choice(param, p, "destination", {"positional", "localize", "context"}, true);
      l.UnknownKeys(param, p, kJobSpecParamKeys);
    }
  }
  l.DiskUsage(doc, root, "disk_usage");
  LintLimits(l, doc, root);
  LintMounts(l, doc, root, "imported_worker_files");
  LintDependencyImages(l, doc, root);
  for (std::string_view key : {"recommended-queues", "required_queues", "pre", "post"})
    l.StringList(doc, root, key);
  l.Object(doc, root, "runtime_options");
  l.Bool(doc, root, "disable_pre_builtins");
  l.Bool(doc, root, "disable_post_builtins");
  l.UnknownKeys(doc, root, kJobSpecKeys);
}

// ---- hysds-io ---------------------------------------------------------------

void LintHysdsIoParam(Linter& l, const Json& param, const std::string& p) {
  if (!l.Expect(&param, p, true, IsObject, "an object {name, from, ...}")) return;
  if (l.String(param, p, "name", true) && param["name"] == "")
    l.Error(Linter::Sub(p, "name"), "got \"\" (expected a param name)");
  std::string from;
  if (l.String(param, p, "from", true)) {
    from = param["from"].get<std::string>();
    if (from != "value" && from != "submitter" && from != "passthrough" &&
        !(from.starts_with("dataset_jpath:") && from.size() > 14))
      l.Error(Linter::Sub(p, "from"),
              fmt::format("got \"{}\" (expected \"value\", \"submitter\", \"passthrough\" or "
                          "\"dataset_jpath:<path>\")",
                          from));
  }
  if (from == "value" && Member(param, "value") == nullptr)
    l.Error(Linter::Sub(p, "value"),
            "is missing (expected the fixed value, since from is \"value\")");
  std::string type = "text";
  if (Member(param, "type") != nullptr && !param["type"].is_null()) {
    l.Choice(param, p, "type", kHysdsIoTypes);
    if (param["type"].is_string()) type = param["type"].get<std::string>();
  }
  l.StringList(param, p, "enumerables", type == "enum");
  bool version =
      type == "container_version" || type == "jobspec_version" || type == "hysdsio_version";
  l.Regex(param, p, "version_regex", nullptr, version);
  const Json* optional = Member(param, "optional");
  if (optional != nullptr && !optional->is_null() && !optional->is_boolean() &&
      *optional != "true" && *optional != "false")
    l.Error(Linter::Sub(p, "optional"),
            fmt::format("got {} (expected true or false)", DescribeJson(*optional)));
  l.String(param, p, "placeholder");
  if (l.String(param, p, "lambda")) {
    std::string text = param["lambda"].get<std::string>();
    if (!text.starts_with("lambda ") && !text.starts_with("lambda:"))
      l.Error(Linter::Sub(p, "lambda"), fmt::format("got {} (expected a Python lambda expression "
                                                    "\"lambda x: ...\")",
                                                    DescribeJson(param["lambda"])));
    else
      l.Warn(Linter::Sub(p, "lambda"),
             "will not run: verdi submit does not evaluate Python and uses the value as it is "
             "(expected no lambda, or submission through HySDS)");
  }
  l.UnknownKeys(param, p, kHysdsIoParamKeys);
}

void LintHysdsIoAt(Linter& l, const Json& doc, const std::string& root) {
  if (!l.Expect(&doc, root, true, IsObject, "a hysds-io object")) return;
  l.String(doc, root, "label");
  l.Choice(doc, root, "component", {"tosca", "figaro"});
  l.Choice(doc, root, "submission_type", {"iteration", "individual"});
  l.Bool(doc, root, "enable_dedup");
  l.StringList(doc, root, "allowed_accounts");
  const Json* params = Member(doc, "params");
  std::string pp = Linter::Sub(root, "params");
  if (l.Expect(params, pp, true, IsArray, "a list of params")) {
    std::set<std::string> names;
    for (size_t i = 0; i < params->size(); ++i) {
      const Json& param = (*params)[i];
      std::string p = Linter::Index(pp, i);
      LintHysdsIoParam(l, param, p);
      const Json* name = Member(param, "name");
      if (name != nullptr && name->is_string() && !names.insert(*name).second)
        l.Warn(Linter::Sub(p, "name"),
               fmt::format("repeated param `{}`: the first one is used (expected each name once)",
                           name->get<std::string>()));
    }
  }
  l.UnknownKeys(doc, root, kHysdsIoKeys);
}

// ---- datasets.json ----------------------------------------------------------

// Python str.format fields of `text` must name something that exists.
// `names` is null when a pattern did not compile: its groups are unknown.
void LintTemplate(Linter& l, const std::string& text, const std::string& path,
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

void LintLocation(Linter& l, const Json& entry, const std::string& path, std::string_view key,
                  const Keys& known, const std::set<std::string>* names) {
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

// ---- job --------------------------------------------------------------------

void LintJobAt(Linter& l, const Json& doc, const std::string& root) {
  if (!l.Expect(&doc, root, true, IsObject, "a job object")) return;
  if (l.String(doc, root, "job_id", true)) {
    Status st = ValidateJobId(doc["job_id"].get<std::string>(), Linter::Sub(root, "job_id"));
    if (!st.ok()) l.ErrorFromStatus(st);
  }
  if (l.String(doc, root, "type", true) && doc["type"] == "")
    l.Error(Linter::Sub(root, "type"),
            "got \"\" (expected a job type such as \"job-hello_world:develop\")");
  for (std::string_view key :
       {"task_id", "name", "tag", "username", "container_image_name", "container_image_url"})
    l.String(doc, root, key);
  l.Int(doc, root, "priority");
  l.Int(doc, root, "retry_count");
  l.Bool(doc, root, "publish_overwrite_ok");
  for (std::string_view key : {"context", "container_mappings", "runtime_options"})
    l.Object(doc, root, key);

  const Json* urls = Member(doc, "localize_urls");
  std::string up = Linter::Sub(root, "localize_urls");
  if (l.Expect(urls, up, false, IsArray, "a list of {url, local_path, cache}")) {
    for (size_t i = 0; i < urls->size(); ++i) {
      std::string p = Linter::Index(up, i);
      const Json& item = (*urls)[i];
      if (!l.Expect(&item, p, true, IsObject, "an object {url, local_path, cache}")) continue;
      if (l.String(item, p, "url", true) && item["url"] == "")
        l.Error(Linter::Sub(p, "url"), "got \"\" (expected a URL)");
      l.String(item, p, "local_path");
      l.Bool(item, p, "cache");
      l.UnknownKeys(item, p, kLocalizeUrlKeys);
    }
  }

  std::string pp = Linter::Sub(root, "params");
  if (l.Object(doc, root, "params")) {
    const Json& params = doc["params"];
    if (l.String(params, pp, "_command")) {
      std::vector<std::string> words;
      Status st = SplitShellWords(params["_command"].get<std::string>(),
                                  Linter::Sub(pp, "_command"), &words);
      if (!st.ok()) l.ErrorFromStatus(st);
    }
    l.DiskUsage(params, pp, "_disk_usage");
    if (const Json* spec = Member(params, "job_specification"); spec != nullptr && !spec->is_null())
      LintJobSpecAt(l, *spec, Linter::Sub(pp, "job_specification"));
  }

  std::string ip = Linter::Sub(root, "job_info");
  if (l.Object(doc, root, "job_info")) {
    const Json& info = doc["job_info"];
    LintLimits(l, info, ip);
    l.Bool(info, ip, "dedup");
    l.String(info, ip, "id");
    l.UnknownKeys(info, ip, kJobInfoKeys);
  }
  l.UnknownKeys(doc, root, kJobKeys);
}

// ---- worker config ----------------------------------------------------------

void LintWorkerConfigAt(Linter& l, const Json& doc, const std::string& root) {
  if (!l.Expect(&doc, root, true, IsObject, "a worker config object")) return;
  l.String(doc, root, "root_work_dir");
  l.Expect(
      Member(doc, "webdav_port"), Linter::Sub(root, "webdav_port"), false,
      [](const Json& v) { return v.is_string() || v.is_number_integer(); },
      "a string or an integer");
  l.String(doc, root, "webdav_url");
  const Json* configs = Member(doc, "configs");
  std::string cp = Linter::Sub(root, "configs");
  if (l.Expect(configs, cp, true, IsArray, "a list of {type, command, ...}")) {
    std::set<std::string> types;
    for (size_t i = 0; i < configs->size(); ++i) {
      const Json& entry = (*configs)[i];
      std::string p = Linter::Index(cp, i);
      if (!l.Expect(&entry, p, true, IsObject, "an object {type, command, ...}")) continue;
      if (l.String(entry, p, "type", true) &&
          !types.insert(entry["type"].get<std::string>()).second)
        l.Warn(Linter::Sub(p, "type"),
               fmt::format("repeated type `{}`: the first entry is used (expected each type once)",
                           entry["type"].get<std::string>()));
      std::string cmdp = Linter::Sub(p, "command");
      if (l.Object(entry, p, "command", true)) {
        const Json& cmd = entry["command"];
        if (l.String(cmd, cmdp, "path", true) && cmd["path"] == "")
          l.Error(Linter::Sub(cmdp, "path"), "got \"\" (expected the path of an executable)");
        l.StringList(cmd, cmdp, "options");
        l.StringList(cmd, cmdp, "arguments");
        const Json* env = Member(cmd, "env");
        std::string ep = Linter::Sub(cmdp, "env");
        if (l.Expect(env, ep, false, IsArray, "a list of {key, value}")) {
          for (size_t k = 0; k < env->size(); ++k) {
            const Json& var = (*env)[k];
            std::string vp = Linter::Index(ep, k);
            if (!l.Expect(&var, vp, true, IsObject, "an object {key, value}")) continue;
            if (l.String(var, vp, "key", true)) {
              std::string key = var["key"].get<std::string>();
              if (key.empty() || key.find('=') != std::string::npos)
                l.Error(Linter::Sub(vp, "key"),
                        fmt::format("got \"{}\" (expected an environment variable name)", key));
            }
            l.String(var, vp, "value", true);
            l.UnknownKeys(var, vp, kEnvKeys);
          }
        }
        l.UnknownKeys(cmd, cmdp, kCommandKeys);
      }
      l.DiskUsage(entry, p, "disk_usage");
      LintDependencyImages(l, entry, p);
      l.String(entry, p, "container_image_name");
      l.String(entry, p, "container_image_url");
      LintMounts(l, entry, p, "container_mappings");
      l.Object(entry, p, "runtime_options");
      l.UnknownKeys(entry, p, kTypeConfigKeys);
    }
  }
  l.UnknownKeys(doc, root, kWorkerConfigKeys);
}

// When the walk found no error, the parser that verdi uses must accept the
// document too; if it does not, its one error is reported.
void CrossCheck(Linter& l, LintKind kind, const Json& doc) {
  if (l.errors() > 0) return;
  Status st;
  switch (kind) {
    case LintKind::kJobSpec: {
      JobSpec spec;
      st = ParseJobSpec(JsonField(&doc, "job-spec"), &spec);
      break;
    }
    case LintKind::kHysdsIo: {
      HysdsIo io;
      st = ParseHysdsIo(JsonField(&doc, "hysds-io"), &io);
      break;
    }
    case LintKind::kJob: {
      Job job;
      st = ParseJob(doc, &job);
      break;
    }
    case LintKind::kWorkerConfig: {
      WorkerConfig config;
      st = ParseWorkerConfig(doc, "worker-config", &config);
      break;
    }
    case LintKind::kDatasets:
      break;
  }
  if (!st.ok()) l.ErrorFromStatus(st);
}

std::vector<std::string> ParamNames(const Json& doc) {
  std::vector<std::string> names;
  const Json* params = Member(doc, "params");
  if (params == nullptr || !params->is_array()) return names;
  for (const Json& p : *params) {
    const Json* name = Member(p, "name");
    names.push_back(name != nullptr && name->is_string() ? name->get<std::string>() : "");
  }
  return names;
}

}  // namespace

std::string Finding::Line() const {
  return fmt::format("{}: {}: {}: {}", severity == kError ? "error" : "warning", file, path,
                     message);
}

std::string_view LintKindName(LintKind kind) {
  switch (kind) {
    case LintKind::kJobSpec:
      return "job-spec";
    case LintKind::kHysdsIo:
      return "hysds-io";
    case LintKind::kDatasets:
      return "datasets";
    case LintKind::kJob:
      return "job";
    case LintKind::kWorkerConfig:
      return "worker-config";
  }
  return "";
}

std::optional<LintKind> ParseLintKind(std::string_view name) {
  for (LintKind kind : {LintKind::kJobSpec, LintKind::kHysdsIo, LintKind::kDatasets, LintKind::kJob,
                        LintKind::kWorkerConfig})
    if (LintKindName(kind) == name) return kind;
  return std::nullopt;
}

std::optional<LintKind> GuessKindFromName(std::string_view path) {
  std::string_view base = path.substr(path.find_last_of('/') + 1);
  if (base.starts_with("job-spec.json.")) return LintKind::kJobSpec;
  if (base.starts_with("hysds-io.json.")) return LintKind::kHysdsIo;
  if (base.starts_with("datasets.json")) return LintKind::kDatasets;
  return std::nullopt;
}

std::optional<LintKind> GuessKindFromContent(const Json& doc) {
  if (!doc.is_object()) return std::nullopt;
  if (doc.contains("job_id") && doc.contains("type")) return LintKind::kJob;
  if (doc.contains("configs")) return LintKind::kWorkerConfig;
  return std::nullopt;
}

bool ParseForLint(std::string_view text, const std::string& file, std::string_view root, Json* doc,
                  std::vector<Finding>* out) {
  Status st = ParseJsonText(text, file, doc);
  if (!st.ok()) {
    std::string message = st.message();
    if (message.starts_with(file + ": ")) message = message.substr(file.size() + 2);
    out->push_back({Finding::kError, file, std::string(root), message});
    return false;
  }
  // Parsed again, to see each key: nlohmann keeps the last of repeated keys.
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string path, key;
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  auto child_path = [&]() {
    if (stack.empty()) return std::string(root);
    const Frame& f = stack.back();
    return f.array ? Linter::Index(f.path, f.index) : Linter::Sub(f.path, f.key);
  };
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start: {
        Frame frame;
        frame.array = event == Json::parse_event_t::array_start;
        frame.path = child_path();
        stack.push_back(std::move(frame));
        break;
      }
      case Json::parse_event_t::key: {
        Frame& top = stack.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second)
          out->push_back(
              {Finding::kWarning, file, Linter::Sub(top.path, top.key),
               fmt::format("repeated key `{}` (the last one wins, as in Python)", top.key)});
        break;
      }
      case Json::parse_event_t::value:
        if (!stack.empty() && stack.back().array) ++stack.back().index;
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        stack.pop_back();
        if (!stack.empty() && stack.back().array) ++stack.back().index;
        break;
    }
    return true;
  };
  Json again = Json::parse(text.begin(), text.end(), callback);
  return true;
}

void LintJobSpec(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  LintJobSpecAt(l, doc, "job-spec");
  CrossCheck(l, LintKind::kJobSpec, doc);
}

void LintHysdsIo(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  LintHysdsIoAt(l, doc, "hysds-io");
  CrossCheck(l, LintKind::kHysdsIo, doc);
}

void LintDatasets(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  LintDatasetsAt(l, doc, "datasets");
}

void LintJob(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  LintJobAt(l, doc, "job");
  CrossCheck(l, LintKind::kJob, doc);
}

void LintWorkerConfig(const Json& doc, const std::string& file, std::vector<Finding>* out) {
  Linter l(file, out);
  LintWorkerConfigAt(l, doc, "worker-config");
  CrossCheck(l, LintKind::kWorkerConfig, doc);
}

void Lint(LintKind kind, const Json& doc, const std::string& file, std::vector<Finding>* out) {
  switch (kind) {
    case LintKind::kJobSpec:
      return LintJobSpec(doc, file, out);
    case LintKind::kHysdsIo:
      return LintHysdsIo(doc, file, out);
    case LintKind::kDatasets:
      return LintDatasets(doc, file, out);
    case LintKind::kJob:
      return LintJob(doc, file, out);
    case LintKind::kWorkerConfig:
      return LintWorkerConfig(doc, file, out);
  }
}

void LintSpecAgainstIo(const Json& spec, const std::string& spec_file, const Json& io,
                       const std::string& io_file, std::vector<Finding>* out) {
  std::vector<std::string> spec_names = ParamNames(spec), io_names = ParamNames(io);
  auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (size_t i = 0; i < io_names.size(); ++i)
    if (!io_names[i].empty() && !has(spec_names, io_names[i]))
      out->push_back({Finding::kError, io_file, fmt::format("hysds-io.params[{}].name", i),
                      fmt::format("`{}` is not a param of {} (expected a job-spec param)",
                                  io_names[i], spec_file)});
  for (size_t i = 0; i < spec_names.size(); ++i)
    if (!spec_names[i].empty() && !has(io_names, spec_names[i]))
      out->push_back({Finding::kError, spec_file, fmt::format("job-spec.params[{}].name", i),
                      fmt::format("`{}` is not a param of {} (expected a hysds-io param)",
                                  spec_names[i], io_file)});
}

std::string NearestKey(std::string_view key, const std::vector<std::string_view>& known) {
  std::string norm = Normalize(key);
  std::string best;
  int best_distance = 4;
  for (std::string_view candidate : known) {
    std::string cn = Normalize(candidate);
    int d;
    if (cn == norm) {
      d = 0;
    } else if (norm.size() >= 3 && (cn.starts_with(norm) || norm.starts_with(cn))) {
      d = 1;
    } else {
      d = Levenshtein(norm, cn);
      if (d >= static_cast<int>(std::min(norm.size(), cn.size()))) continue;
    }
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace verdi
