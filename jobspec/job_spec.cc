#include "jobspec/job_spec.h"

#include <fmt/format.h>

#include "jobspec/disk_usage.h"

namespace verdi {
namespace {

Status ParseParam(const JsonField& field, JobSpecParam* param) {
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  VERDI_RETURN_IF_ERROR(field["name"].GetString(&param->name));
  std::string destination;
  JsonField dest = field["destination"];
  VERDI_RETURN_IF_ERROR(dest.GetString(&destination));
  if (destination == "positional") {
    param->destination = JobSpecParam::Destination::kPositional;
  } else if (destination == "localize") {
    param->destination = JobSpecParam::Destination::kLocalize;
  } else if (destination == "context") {
    param->destination = JobSpecParam::Destination::kContext;
  } else {
    return dest.Error("\"positional\", \"localize\" or \"context\"");
  }
  return Status::OK();
}

Status ExpectOptionalObject(const JsonField& field, Json* out) {
  if (field.missing()) return Status::OK();
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  *out = field.value();
  return Status::OK();
}

Status ParseImportedFiles(const JsonField& field, Json* out) {
  VERDI_RETURN_IF_ERROR(ExpectOptionalObject(field, out));
  for (const auto& [host_path, target] : out->items()) {
    JsonField entry = field[host_path];
    if (target.is_string()) continue;
    const char* expected = "a container path, or [container path, \"ro\" or \"rw\"]";
    if (!target.is_array() || target.empty() || target.size() > 2 || !target[0].is_string())
      return entry.Error(expected);
    if (target.size() == 2 && target[1] != "ro" && target[1] != "rw")
      return entry.at(1).Error("\"ro\" or \"rw\"");
  }
  return Status::OK();
}

Status ParseDependencyImage(const JsonField& field, DependencyImage* image) {
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  VERDI_RETURN_IF_ERROR(field["container_image_name"].GetString(&image->container_image_name));
  std::string url;
  if (!field["container_image_url"].missing()) {
    VERDI_RETURN_IF_ERROR(field["container_image_url"].GetString(&url));
    image->container_image_url = url;
  }
  VERDI_RETURN_IF_ERROR(
      ParseImportedFiles(field["container_mappings"], &image->container_mappings));
  return ExpectOptionalObject(field["runtime_options"], &image->runtime_options);
}

}  // namespace

Status ParseJobSpec(const JsonField& field, JobSpec* spec) {
  VERDI_RETURN_IF_ERROR(field.ExpectObject());
  JobSpec out;
  VERDI_RETURN_IF_ERROR(field["command"].GetString(&out.command));

  JsonField params = field["params"];
  VERDI_RETURN_IF_ERROR(params.ExpectArray());
  for (size_t i = 0; i < params.size(); ++i) {
    JobSpecParam param;
    VERDI_RETURN_IF_ERROR(ParseParam(params.at(i), &param));
    out.params.push_back(std::move(param));
  }

  JsonField disk = field["disk_usage"];
  if (!disk.missing()) {
    std::string text;
    uint64_t bytes = 0;
    VERDI_RETURN_IF_ERROR(disk.GetString(&text));
    VERDI_RETURN_IF_ERROR(ParseDiskUsage(text, disk.path(), &bytes));
    out.disk_usage_bytes = bytes;
  }

  for (auto [key, target] : {std::pair{"soft_time_limit", &out.soft_time_limit},
                             std::pair{"time_limit", &out.time_limit}}) {
    JsonField limit = field[key];
    if (limit.missing()) continue;
    int64_t seconds = 0;
    VERDI_RETURN_IF_ERROR(limit.GetInt(&seconds));
    if (seconds < 0) return limit.Error("a number of seconds, 0 or more");
    *target = seconds;
  }

  VERDI_RETURN_IF_ERROR(
      ParseImportedFiles(field["imported_worker_files"], &out.imported_worker_files));

  JsonField deps = field["dependency_images"];
  if (!deps.missing()) {
    VERDI_RETURN_IF_ERROR(deps.ExpectArray());
    for (size_t i = 0; i < deps.size(); ++i) {
      DependencyImage image;
      VERDI_RETURN_IF_ERROR(ParseDependencyImage(deps.at(i), &image));
      out.dependency_images.push_back(std::move(image));
    }
  }

  VERDI_RETURN_IF_ERROR(field["recommended-queues"].GetOptionalStringList(&out.recommended_queues));
  VERDI_RETURN_IF_ERROR(ExpectOptionalObject(field["runtime_options"], &out.runtime_options));
  VERDI_RETURN_IF_ERROR(field["pre"].GetOptionalStringList(&out.pre));
  VERDI_RETURN_IF_ERROR(field["post"].GetOptionalStringList(&out.post));
  VERDI_RETURN_IF_ERROR(field["disable_pre_builtins"].GetOptionalBool(&out.disable_pre_builtins));
  VERDI_RETURN_IF_ERROR(field["disable_post_builtins"].GetOptionalBool(&out.disable_post_builtins));
  *spec = std::move(out);
  return Status::OK();
}

}  // namespace verdi
