#include "jobspec/worker_config.h"

#include <fmt/format.h>

#include "base/redact.h"
#include "jobspec/disk_usage.h"
#include "jobspec/shell_words.h"

namespace verdi {
namespace {

Status ParseEnv(const JsonField& field, std::vector<EnvVar>* env) {
  if (field.missing()) return Status::OK();
  VERDI_RETURN_IF_ERROR(field.ExpectArray());
  for (size_t i = 0; i < field.size(); ++i) {
    JsonField item = field.at(i);
    VERDI_RETURN_IF_ERROR(item.ExpectObject());
    EnvVar var;
    VERDI_RETURN_IF_ERROR(item["key"].GetString(&var.key));
    if (var.key.empty() || var.key.find('=') != std::string::npos)
      return item["key"].Error("an environment variable name");
    VERDI_RETURN_IF_ERROR(item["value"].GetString(&var.value));
    env->push_back(std::move(var));
  }
  return Status::OK();
}

Status ParseCommand(const JsonField& field, CommandConfig* command) {
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  VERDI_RETURN_IF_ERROR(field["path"].GetString(&command->path));
  if (command->path.empty()) return field["path"].Error("the path of an executable");
  VERDI_RETURN_IF_ERROR(field["options"].GetOptionalStringList(&command->options));
  VERDI_RETURN_IF_ERROR(field["arguments"].GetOptionalStringList(&command->arguments));
  return ParseEnv(field["env"], &command->env);
}

Status ParseTypeConfig(const JsonField& field, TypeConfig* config) {
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  VERDI_RETURN_IF_ERROR(field["type"].GetString(&config->type));
  VERDI_RETURN_IF_ERROR(ParseCommand(field["command"], &config->command));
  JsonField disk = field["disk_usage"];
  if (!disk.missing()) {
    std::string text;
    uint64_t bytes = 0;
    VERDI_RETURN_IF_ERROR(disk.GetString(&text));
    VERDI_RETURN_IF_ERROR(ParseDiskUsage(text, disk.path(), &bytes));
    config->disk_usage_bytes = bytes;
  }
  config->entry = field.value();
  return Status::OK();
}

// A setting that HySDS reads with str(): a string or a number.
Status GetStringOrNumber(const JsonField& field, std::optional<std::string>* out) {
  if (field.missing()) return Status::OK();
  const Json& v = field.value();
  if (v.is_string()) {
    *out = v.get<std::string>();
  } else if (v.is_number_integer()) {
    *out = v.dump();
  } else {
    return field.Error("a string or an integer");
  }
  return Status::OK();
}

// Python's str() of a JSON value, as HySDS passes each argument.
std::string PythonStr(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  if (value.is_null()) return "None";
  return value.dump();
}

bool IsParamReference(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '$') return false;
  for (size_t i = 1; i < arg.size(); ++i) {
    char c = arg[i];
    bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!word) return false;
  }
  return true;
}

}  // namespace

Json CommandConfig::ToJson() const {
  Json env_list = Json::array();
  for (const auto& var : env)
    env_list.push_back({{"key", var.key}, {"value", RedactEnvValue(var.key, var.value)}});
  return {{"path", path}, {"options", options}, {"arguments", arguments}, {"env", env_list}};
}

const TypeConfig* WorkerConfig::Find(const std::string& type) const {
  for (const auto& config : configs)
    if (config.type == type) return &config;
  return nullptr;
}

Status ParseWorkerConfig(const Json& doc, const std::string& where, WorkerConfig* config) {
  JsonField root(&doc, where);
  VERDI_RETURN_IF_ERROR(root.ExpectObject());
  WorkerConfig out;
  std::string text;
  if (!root["root_work_dir"].missing()) {
    VERDI_RETURN_IF_ERROR(root["root_work_dir"].GetString(&text));
    out.root_work_dir = text;
  }
  VERDI_RETURN_IF_ERROR(GetStringOrNumber(root["webdav_port"], &out.webdav_port));
  if (!root["webdav_url"].missing()) {
    VERDI_RETURN_IF_ERROR(root["webdav_url"].GetString(&text));
    out.webdav_url = text;
  }
  JsonField configs = root["configs"];
  VERDI_RETURN_IF_ERROR(configs.ExpectArray());
  for (size_t i = 0; i < configs.size(); ++i) {
    TypeConfig type_config;
    VERDI_RETURN_IF_ERROR(ParseTypeConfig(configs.at(i), &type_config));
    out.configs.push_back(std::move(type_config));
  }
  *config = std::move(out);
  return Status::OK();
}

Status WorkerConfigFromJob(const Job& job, WorkerConfig* config) {
  if (!job.command_line)
    return Status::Invalid(
        "job.params._command: is missing, and no worker config (HYSDS_WORKER_CFG) is set: "
        "nothing says what to run");
  std::vector<std::string> words;
  VERDI_RETURN_IF_ERROR(SplitShellWords(*job.command_line, "job.params._command", &words));
  if (words.empty())
    return Status::Invalid("job.params._command: is empty, expected a command line");
  TypeConfig entry;
  entry.type = job.type;
  entry.command.path = words[0];
  entry.command.arguments.assign(words.begin() + 1, words.end());
  entry.disk_usage_bytes = job.disk_usage_bytes;
  const Json* deps = FindPath(job.doc, {"params", "job_specification", "dependency_images"});
  if (deps != nullptr) entry.entry["dependency_images"] = *deps;
  WorkerConfig out;
  out.configs.push_back(std::move(entry));
  *config = std::move(out);
  return Status::OK();
}

Status ResolveArgv(const CommandConfig& command, const Json& params,
                   std::vector<std::string>* argv) {
  std::vector<std::string> out{command.path};
  out.insert(out.end(), command.options.begin(), command.options.end());
  for (const auto& arg : command.arguments) {
    if (!IsParamReference(arg)) {
      out.push_back(arg);
      continue;
    }
    std::string name = arg.substr(1);
    if (!params.is_object() || !params.contains(name))
      return Status::Invalid(fmt::format(
          "job.params.{}: is missing, but the command's argument \"{}\" refers to it", name, arg));
    const Json& value = params[name];
    if (value.is_array()) {
      for (const auto& item : value) out.push_back(PythonStr(item));
    } else {
      out.push_back(PythonStr(value));
    }
  }
  *argv = std::move(out);
  return Status::OK();
}

}  // namespace verdi
