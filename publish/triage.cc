// Triage of failed jobs (HySDS's triage post-processor).
#include <glob.h>

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "base/files.h"
#include "base/timestamp.h"
#include "jobspec/job_files.h"
#include "publish/publish.h"
#include "publish/template.h"

namespace verdi::publish {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultIdFormat = "triaged_job-{job_id}_task-{job[task_id]}";

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
  TemplateFields fields;
  fields.names["job_id"] = job->value("job_id", "");
  fields.objects["job"] = *job;
  fields.objects["job_context"] = context;
  std::string format = kDefaultIdFormat;
  if (auto f = context.find("_triage_id_format"); f != context.end() && f->is_string())
    format = f->get<std::string>();
  std::string id;
  VERDI_RETURN_IF_ERROR(FillTemplate(format, fields, &id).WithPrefix("triage: _triage_id_format"));
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

  Json dataset = {{"version", "v" VERDI_VERSION},
                  {"label", id},
                  {"starttime", info.value("cmd_start", Json())},
                  {"endtime", info.value("cmd_end", Json())}};
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
