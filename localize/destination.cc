#include "localize/destination.h"

#include <array>
#include <string_view>
#include <system_error>

#include "localize/url.h"

namespace verdi::localize {
namespace fs = std::filesystem;

namespace {

// What the worker writes at the top of a job dir: verdi/job/pipeline.cc,
// verdi/process/supervisor.cc, verdi/workdir/ (job_dir, close_out),
// publish/ (_datasets.json, _triaged.json) and verdi/job/publish_step.cc.
constexpr std::array<std::string_view, 13> kReserved = {
    "_stdout.txt",    "_stderr.txt",         "_context.json",   "_job.json", "_run.sh",
    "_pid",           "_exit_code",          ".exit_code_hold", ".running",  ".done",
    "_datasets.json", "_docker_params.json", "_triaged.json",
};
// Scratch dirs named <prefix><uuid>.
constexpr std::array<std::string_view, 2> kReservedPrefixes = {".extractor-", ".processor-"};

}  // namespace

bool IsReservedJobFile(const std::string& name) {
  for (std::string_view r : kReserved)
    if (name == r || (name.starts_with(r) && name[r.size()] == '.')) return true;  // r.tmp...
  for (std::string_view p : kReservedPrefixes)
    if (name.starts_with(p)) return true;
  return false;
}

Status Destination(const fs::path& job_dir, size_t index, const std::string& url,
                   const std::string& local_path, fs::path* out) {
  const std::string where = "localize_urls[" + std::to_string(index) + "]";
  Url parsed;
  Status st = ParseUrl(url, &parsed);
  if (!st.ok()) return Status::Invalid(where + ".url: " + st.message());
  std::string base = parsed.Basename();
  if (base.empty() || base == "." || base == "..") {
    return Status::Invalid(where + ".url: no file name in " + parsed.Redacted());
  }
  if (!local_path.empty() && local_path[0] == '/') {
    return Status::Invalid(where +
                           ".local_path: must be relative to the job dir, got an absolute path");
  }
  fs::path rel = fs::path(local_path).lexically_normal();
  for (const fs::path& part : rel) {
    if (part == "..") return Status::Invalid(where + ".local_path: '..' would leave the job dir");
  }
  // Every existing component on the way must be a real directory (no symlink).
  fs::path cur = job_dir;
  std::error_code ec;
  bool is_dir = true;  // the job dir itself
  for (const fs::path& part : rel) {
    if (part.empty() || part == ".") continue;
    cur /= part;
    auto lst = fs::symlink_status(cur, ec);
    if (ec || !fs::exists(lst)) {
      is_dir = false;
      // Nothing below exists either: no symlink possible.
      break;
    }
    if (fs::is_symlink(lst)) {
      return Status::Invalid(where + ".local_path: '" + cur.lexically_relative(job_dir).string() +
                             "' is a symlink");
    }
    is_dir = fs::is_directory(lst);
  }
  bool dir_like = local_path.empty() || local_path.back() == '/' || rel == "." ||
                  (is_dir && cur == (job_dir / rel).lexically_normal());
  fs::path dest = (job_dir / rel).lexically_normal();
  if (dir_like) {
    dest /= base;
    auto lst = fs::symlink_status(dest, ec);
    if (!ec && fs::is_symlink(lst)) {
      return Status::Invalid(where + ": '" + dest.lexically_relative(job_dir).string() +
                             "' is a symlink");
    }
  }
  if (dest.has_filename() == false) dest = dest.parent_path();
  fs::path inside = dest.lexically_relative(job_dir.lexically_normal());
  fs::path top = inside.empty() ? fs::path() : *inside.begin();
  if (IsReservedJobFile(top.string())) {
    std::string how = local_path.empty() ? "the URL's file name" : "local_path " + local_path;
    return Status::Invalid(where + ": '" + top.string() + "' (" + how +
                           ") is a file the worker writes in the job dir: refused");
  }
  *out = dest;
  return Status::OK();
}

}  // namespace verdi::localize
