#include "verdi/workdir/archive.h"

#include <system_error>

#include "base/redact.h"
#include "jobspec/uuid.h"
#include "localize/upload.h"
#include "localize/url.h"
#include "verdi/workdir/tar_gz.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

std::string Trimmed(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
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
  std::string target = localize::JoinUrl(Trimmed(base_url), name);
  if (st.ok()) {
    localize::Uploader uploader{localize::UploadOptions()};
    st =
        uploader.Put(local, target, /*no_clobber=*/false, nullptr).WithPrefix("--archive-work-dir");
  }
  fs::remove(local, ec);
  VERDI_RETURN_IF_ERROR(st);
  *url = RedactUrls(target);
  return Status::OK();
}

}  // namespace verdi
