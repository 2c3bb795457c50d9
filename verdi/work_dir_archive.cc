#include "verdi/work_dir_archive.h"

#include <unistd.h>

#include <system_error>

#include <fmt/format.h>

#include "jobspec/uuid.h"
#include "localize/url.h"
#include "verdi/tar_gz.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

// Until the localize layer can upload: a file:// target, written under a
// temporary name and renamed, so a reader never sees half an archive.
Status PutFile(const fs::path& src, const std::string& url) {
  localize::Url parsed;
  VERDI_RETURN_IF_ERROR(localize::ParseUrl(url, &parsed).WithPrefix("--archive-work-dir"));
  if (parsed.IsNetwork())
    return Status::Invalid("--archive-work-dir " + parsed.Redacted() +
                           ": only file:// URLs can be uploaded to for now");
  fs::path dest = parsed.path;
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return Status::IOError("creating " + dest.parent_path().string(), ec.value());
  fs::path tmp = dest.parent_path() / ("." + dest.filename().string() + ".part");
  fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, dest, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return Status::IOError("writing " + dest.string(), ec.value());
  }
  return Status::OK();
}

std::string Join(std::string base, const std::string& name) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + name;
}

}  // namespace

std::string ArchiveName(const fs::path& job_dir, const std::string& task_id) {
  std::string name = job_dir.filename().string();
  return (task_id.empty() ? name : name + "-" + task_id) + ".tar.gz";
}

Status ArchiveJobDir(const std::string& base_url, const fs::path& root, const fs::path& job_dir,
                     const std::string& task_id, std::string* url) {
  std::string name = ArchiveName(job_dir, task_id);
  fs::path staging = root / "archives";
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) return Status::IOError("creating " + staging.string(), ec.value());
  fs::path local = staging / ("." + name + "." + NewUuid4().substr(0, 8) + ".part");
  Status st = WriteTarGz(job_dir, job_dir.filename().string(), local);
  std::string target = Join(base_url, name);
  if (st.ok()) st = PutFile(local, target);
  fs::remove(local, ec);
  VERDI_RETURN_IF_ERROR(st);
  *url = localize::Redacted(target);
  return Status::OK();
}

}  // namespace verdi
