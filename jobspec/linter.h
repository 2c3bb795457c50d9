// The machinery shared by the linters of each file kind (lint.h): a
// collector of findings with typed checks that name the JSON path. Internal
// to jobspec's lint*.cc files.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "jobspec/disk_usage.h"
#include "jobspec/lint.h"

namespace verdi::lint {

using Keys = std::vector<std::string_view>;

// verdi's default grace between SIGTERM and SIGKILL (run_job --kill-grace).
inline constexpr int64_t kKillGrace = 5;

// Compiles a Python regex with PCRE2; on success the named groups are added
// to `names`, else `error` says why.
bool CompileRegex(const std::string& pattern, std::string* error, std::set<std::string>* names);

// Edit distance, for "did you mean" suggestions.
int Levenshtein(std::string_view a, std::string_view b);

// Lower case, '-' as '_': "Recommended-Queues" and "recommended_queues" meet.
std::string Normalize(std::string_view key);

inline const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

inline bool IsString(const Json& v) { return v.is_string(); }
inline bool IsObject(const Json& v) { return v.is_object(); }
inline bool IsArray(const Json& v) { return v.is_array(); }
inline bool IsBool(const Json& v) { return v.is_boolean(); }
inline bool IsInt(const Json& v) { return v.is_number_integer(); }

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

// Parts of a job-spec that jobs and worker configs share (lint_job_spec.cc):
// mounts (host path -> container path or [path, mode]), dependency images,
// soft/hard time limits.
void LintMounts(Linter& l, const Json& obj, const std::string& path, std::string_view key);
void LintDependencyImages(Linter& l, const Json& obj, const std::string& path);
void LintLimits(Linter& l, const Json& obj, const std::string& path);

// The walks of each kind, from `root` (the path of the document itself).
void LintJobSpecAt(Linter& l, const Json& doc, const std::string& root);
void LintHysdsIoAt(Linter& l, const Json& doc, const std::string& root);
void LintDatasetsAt(Linter& l, const Json& doc, const std::string& root);
void LintJobAt(Linter& l, const Json& doc, const std::string& root);
void LintWorkerConfigAt(Linter& l, const Json& doc, const std::string& root);

}  // namespace verdi::lint
