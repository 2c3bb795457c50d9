// Linting run_job jobs (the payload and its job_info) and worker configs, in
// HySDS's formats.
#include "jobspec/linter.h"

#include <algorithm>

#include "jobspec/job_id.h"
#include "jobspec/shell_words.h"

namespace verdi::lint {
namespace {

// The keys each kind of object may have (as HySDS reads them).
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

}  // namespace

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

}  // namespace verdi::lint
