// Linting job-specs and hysds-io files (HySDS's formats).
#include "jobspec/hysds_io.h"
#include "jobspec/linter.h"

#include <algorithm>

namespace verdi::lint {
namespace {

// The keys each kind of object may have (as HySDS reads them).
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
const Keys kHysdsIoTypes = {
    "text",   "number",          "datetime",       "date",   "boolean",
    "enum",   "email",           "textarea",       "region", "container_version",
    "object", "jobspec_version", "hysdsio_version"};

}  // namespace

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

static void LintHysdsIoParam(Linter& l, const Json& param, const std::string& p) {
  if (!l.Expect(&param, p, true, IsObject, "an object {name, from, ...}")) return;
  if (l.String(param, p, "name", true) && param["name"] == "")
    l.Error(Linter::Sub(p, "name"), "got \"\" (expected a param name)");
  std::string from;
  if (l.String(param, p, "from", true)) {
    from = param["from"].get<std::string>();
    FromForm form = ClassifyFrom(from);
    if (form == FromForm::kRefused)
      l.Error(Linter::Sub(p, "from"), fmt::format("got \"{}\" (expected {})", from, kFromForms));
    else if (form == FromForm::kDefaultOnly)
      l.Warn(Linter::Sub(p, "from"),
             fmt::format("\"{}\" is no source HySDS's resolver knows: the param only ever gets "
                         "its value or default (expected {})",
                         from, kFromForms));
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
  // HySDS's schema: an object's default is a list or an object, any other
  // type's is text (the resolver converts it by type).
  const Json* default_value = Member(param, "default");
  if (default_value != nullptr && !default_value->is_null()) {
    if (type == "object" && !default_value->is_object() && !default_value->is_array())
      l.Error(Linter::Sub(p, "default"),
              fmt::format("got {} (expected a list or an object, since type is object)",
                          DescribeJson(*default_value)));
    else if (type != "object" && !default_value->is_string())
      l.Warn(Linter::Sub(p, "default"),
             fmt::format("got {} (expected text, as HySDS's schema says for type {})",
                         DescribeJson(*default_value), type));
  }
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

}  // namespace verdi::lint
