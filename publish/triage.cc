// Triage of failed jobs (HySDS's triage post-processor).
#include <glob.h>

#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/files.h"
#include "base/timestamp.h"
#include "jobspec/job_files.h"
#include "jobspec/python_regex.h"
#include "publish/publish.h"
#include "publish/template.h"

namespace verdi::publish {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultIdFormat = "triaged_job-{job_id}_task-{job[task_id]}";
constexpr const char* kDefaultIdRegex = "triaged_job-(?P<job_id>.+)_task-(?P<task_id>[-\\w])";

// Copies `src` (a file, or a directory with what is in it) into `dir`;
// links are followed when they stay in the job dir, else skipped.
void CopyIn(const fs::path& root, const fs::path& src, const fs::path& dir,
            const std::function<void(const std::string&)>& log) {
  std::error_code ec;
  fs::path target = CanonicalPath(src, ec);
  auto inside = [&](const fs::path& p) {
    auto rel = p.lexically_relative(root);
    return !rel.empty() && *rel.begin() != "..";
  };
  if (ec || !inside(target)) {
    if (log)
      log(fmt::format("triage: {} leads nowhere or outside the job dir, skipped", src.string()));
    return;
  }
  fs::path dest = dir / src.filename();
  if (fs::is_directory(target, ec)) {
    fs::copy(target, dest, fs::copy_options::recursive | fs::copy_options::skip_symlinks, ec);
  } else {
    fs::copy_file(target, dest, fs::copy_options::overwrite_existing, ec);
  }
  if (ec && log) log(fmt::format("triage: copying {}: {}", src.string(), ec.message()));
}

}  // namespace

Status TriageJob(const PublishSettings& settings, const fs::path& job_dir, const Json& context,
                 Json* job) {
  if (context.value("_triage_disabled", false) == true) {
    if (settings.log) settings.log("triage disabled by _triage_disabled");
    return Status::OK();
  }
  const Json& info = (*job)["job_info"];
  // A job id that is itself a triage id names the job it triaged (HySDS parses it).
  std::string job_id = info.contains("id") && info["id"].is_string() ? info["id"].get<std::string>()
                                                                     : job->value("job_id", "");
  std::map<std::string, std::string> groups;
  PythonRegex triage_re;
  if (PythonRegex::Compile(kDefaultIdRegex, "triage", &triage_re).ok() &&
      triage_re.Search(job_id, &groups))
    job_id = groups["job_id"];
  TemplateFields fields;
  fields.names["job_id"] = job_id;
  fields.objects["job"] = *job;
  fields.objects["job_context"] = context;
  std::string id;
  if (auto f = context.find("_triage_id_format"); f != context.end()) {
    Status st = f->is_string() ? FillTemplate(f->get<std::string>(), fields, &id)
                               : Status::Invalid("expected a string, got " + DescribeJson(*f));
    if (!st.ok() && settings.log)
      settings.log("triage: _triage_id_format: " + st.message() + "; the default id is used");
    if (!st.ok()) id.clear();
  }
  if (id.empty())
    VERDI_RETURN_IF_ERROR(FillTemplate(kDefaultIdFormat, fields, &id).WithPrefix("triage"));
  if (id.empty() || id.find('/') != std::string::npos || id.find("..") != std::string::npos)
    return Status::Invalid(fmt::format("triage: the triage id \"{}\" is not a directory name", id));

  // Nothing is made in a job dir swapped for a link.
  JobDir job_files;
  VERDI_RETURN_IF_ERROR(JobDir::Open(job_dir, &job_files).WithPrefix("triage"));
  std::error_code ec;
  const fs::path& root = job_files.root();
  fs::path dir = root / id;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("creating " + dir.string(), ec.value());

  // The job's own files (_*), its logs, and what the context asks for.
  std::vector<std::string> patterns = {"_*", "*.log"};
  if (auto g = context.find("_triage_additional_globs"); g != context.end() && g->is_array())
    for (const Json& p : *g)
      if (p.is_string()) patterns.push_back(p.get<std::string>());
  std::set<fs::path> copied;
  for (const std::string& pattern : patterns) {
    if (pattern.starts_with("/") || pattern.find("..") != std::string::npos) {
      if (settings.log) settings.log("triage: glob " + pattern + " leaves the job dir, skipped");
      continue;
    }
    glob_t g{};
    if (glob((root / pattern).c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        fs::path p = g.gl_pathv[i];
        if (p == dir || !copied.insert(p).second) continue;
        CopyIn(root, p, dir, settings.log);
      }
    }
    globfree(&g);
  }

  Json dataset = {{"version", settings.triage_version}, {"label", "triage for job " + job_id}};
  if (!settings.triage_partition_format.empty()) {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char partition[256] = {};
    std::strftime(partition, sizeof partition, settings.triage_partition_format.c_str(), &utc);
    dataset["index"] = {
        {"suffix", fmt::format("{}_{}_triaged_job", settings.triage_version, partition)}};
  }
  if (info.contains("cmd_start")) dataset["starttime"] = info["cmd_start"];
  if (info.contains("cmd_end")) dataset["endtime"] = info["cmd_end"];
  VERDI_RETURN_IF_ERROR(
      job_files.WriteFile(fs::path(id) / (id + ".dataset.json"), DumpJsonFile(dataset)));
  VERDI_RETURN_IF_ERROR(job_files.WriteFile(fs::path(id) / (id + ".met.json"), DumpJsonFile(info)));

  Product product{id, dir, dir};
  Json docs;
  VERDI_RETURN_IF_ERROR(
      PublishProducts(settings, root, context, {product}, true, job, &docs).WithPrefix("triage"));
  return job_files.WriteFile("_triaged.json",
                             DumpJsonFile(docs.empty() ? Json::object() : docs[0]));
}

}  // namespace verdi::publish
