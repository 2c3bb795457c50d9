#include "jobspec/job.h"

#include "jobspec/disk_usage.h"
#include "jobspec/job_id.h"

namespace verdi {

Status ParseLocalizeUrls(const JsonField& field, std::vector<LocalizeUrl>* urls) {
  urls->clear();
  if (field.missing()) return Status::OK();
  VERDI_RETURN_IF_ERROR(field.ExpectArray());
  for (size_t i = 0; i < field.size(); ++i) {
    JsonField item = field.at(i);
    VERDI_RETURN_IF_ERROR(item.ExpectObject());
    LocalizeUrl url;
    VERDI_RETURN_IF_ERROR(item["url"].GetString(&url.url));
    if (url.url.empty()) return item["url"].Error("a URL");
    VERDI_RETURN_IF_ERROR(item["local_path"].GetOptionalString(&url.local_path));
    VERDI_RETURN_IF_ERROR(item["cache"].GetOptionalBool(&url.cache));
    urls->push_back(std::move(url));
  }
  return Status::OK();
}

namespace {

Status ExpectOptional(const JsonField& field, bool (Json::*is)() const noexcept,
                      const char* expected) {
  if (field.missing() || (field.value().*is)()) return Status::OK();
  return field.Error(expected);
}

Status ParseLimit(const JsonField& field, std::optional<int64_t>* out) {
  if (field.missing()) return Status::OK();
  int64_t seconds = 0;
  VERDI_RETURN_IF_ERROR(field.GetInt(&seconds));
  if (seconds < 0) return field.Error("a number of seconds, 0 or more");
  *out = seconds;
  return Status::OK();
}

Status ParseParams(const JsonField& params, Job* job) {
  if (params.missing()) return Status::OK();
  VERDI_RETURN_IF_ERROR(params.ExpectObject());
  std::string text;
  if (!params["_command"].missing()) {
    VERDI_RETURN_IF_ERROR(params["_command"].GetString(&text));
    job->command_line = text;
  }
  JsonField disk = params["_disk_usage"];
  if (!disk.missing()) {
    uint64_t bytes = 0;
    VERDI_RETURN_IF_ERROR(disk.GetString(&text));
    VERDI_RETURN_IF_ERROR(ParseDiskUsage(text, disk.path(), &bytes));
    job->disk_usage_bytes = bytes;
  }
  JsonField spec = params["job_specification"];
  if (!spec.missing()) {
    JobSpec parsed;
    VERDI_RETURN_IF_ERROR(ParseJobSpec(spec, &parsed));
    job->spec = std::move(parsed);
  }
  return Status::OK();
}

}  // namespace

Status ParseJob(Json doc, Job* job) {
  Job out;
  JsonField root(&doc, "job");
  VERDI_RETURN_IF_ERROR(root.ExpectObject());

  VERDI_RETURN_IF_ERROR(root["job_id"].GetString(&out.job_id));
  VERDI_RETURN_IF_ERROR(ValidateJobId(out.job_id, "job.job_id"));
  VERDI_RETURN_IF_ERROR(root["type"].GetString(&out.type));
  if (out.type.empty()) return root["type"].Error("a job type such as \"job-hello_world:develop\"");
  VERDI_RETURN_IF_ERROR(root["task_id"].GetOptionalString(&out.task_id));
  VERDI_RETURN_IF_ERROR(root["priority"].GetOptionalInt(&out.priority));

  std::string ignored;
  for (const char* key : {"name", "tag", "username", "container_image_name"})
    VERDI_RETURN_IF_ERROR(root[key].GetOptionalString(&ignored));
  VERDI_RETURN_IF_ERROR(root["container_image_url"].GetOptionalString(&ignored));
  bool flag = false;
  VERDI_RETURN_IF_ERROR(root["publish_overwrite_ok"].GetOptionalBool(&flag));
  for (const char* key : {"context", "container_mappings", "runtime_options"})
    VERDI_RETURN_IF_ERROR(ExpectOptional(root[key], &Json::is_object, "an object"));
  int64_t count = 0;
  VERDI_RETURN_IF_ERROR(root["retry_count"].GetOptionalInt(&count));

  VERDI_RETURN_IF_ERROR(ParseLocalizeUrls(root["localize_urls"], &out.localize_urls));
  VERDI_RETURN_IF_ERROR(ParseParams(root["params"], &out));

  JsonField info = root["job_info"];
  if (!info.missing()) {
    VERDI_RETURN_IF_ERROR(info.ExpectObject());
    VERDI_RETURN_IF_ERROR(ParseLimit(info["soft_time_limit"], &out.soft_time_limit));
    VERDI_RETURN_IF_ERROR(ParseLimit(info["time_limit"], &out.time_limit));
    VERDI_RETURN_IF_ERROR(info["dedup"].GetOptionalBool(&flag));
    VERDI_RETURN_IF_ERROR(info["id"].GetOptionalString(&ignored));
  }

  out.doc = std::move(doc);
  *job = std::move(out);
  return Status::OK();
}

}  // namespace verdi
