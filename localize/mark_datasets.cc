#include "localize/mark_datasets.h"

#include <cerrno>
#include <fstream>
#include <set>
#include <system_error>

#include "base/files.h"
#include "base/timestamp.h"

namespace verdi::localize {
namespace fs = std::filesystem;

namespace {

Status Walk(const fs::path& dir, std::set<fs::path>* seen, std::vector<fs::path>* marked) {
  std::error_code ec;
  fs::path real = CanonicalPath(dir, ec);
  if (ec || !seen->insert(real).second) return Status::OK();  // a loop, or gone
  // One listing gives the subdirs and tells whether this dir is a dataset
  // (no lookup of a name that is mostly not there).
  const std::string dataset_json = dir.filename().string() + ".dataset.json";
  bool is_dataset = false;
  std::vector<fs::path> subdirs;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2))  // follows symlinks
      subdirs.push_back(it->path());
    else if (it->path().filename() == dataset_json && it->is_regular_file(ec2))
      is_dataset = true;
  }
  if (is_dataset) {
    fs::path marker = dir / ".localized";
    // Marked already: a (read-only) cache entry, marked when it was filled.
    if (!fs::is_regular_file(fs::symlink_status(marker, ec))) {
      fs::path tmp = dir / ".localized.tmp";
      {
        std::ofstream out(tmp);
        out << IsoUtc(WallClock::now()) << "\n";
        if (!out) return Status::IOError("writing " + tmp.string(), errno);
      }
      fs::rename(tmp, marker, ec);
      if (ec) return Status::IOError("writing " + marker.string(), ec.value());
    }
    if (marked) marked->push_back(dir);
  }
  for (const fs::path& sub : subdirs) VERDI_RETURN_IF_ERROR(Walk(sub, seen, marked));
  return Status::OK();
}

}  // namespace

Status MarkLocalizedDatasets(const fs::path& job_dir, std::vector<fs::path>* marked) {
  std::set<fs::path> seen;
  return Walk(job_dir, &seen, marked);
}

}  // namespace verdi::localize
