// --archive-work-dir URL: a closed-out job directory, as a .tar.gz, put at
// URL for whoever debugs the job later (the build-once/run-many worker's
// "tarball the directory and upload it", seed 001).
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"

namespace verdi {

struct ArchiveSettings {
  /// Where archives go: a directory URL (file://, http(s):// or dav(s)://
  /// WebDAV, s3(s)://, as localize::Uploader puts files); empty: off.
  std::string url;
  /// --archive-on always; otherwise only failed jobs are archived.
  bool always = false;
};

/// The archive's name: "<job dir name>-<task id>.tar.gz" (the task id keeps
/// two runs of one job apart), or "<job dir name>.tar.gz" without one.
std::string ArchiveName(const std::filesystem::path& job_dir, const std::string& task_id);

/// Writes `job_dir` as a .tar.gz under <root>/archives/ (a temporary name),
/// puts it at `base_url`/ArchiveName and removes the local copy. *url is the
/// URL it was put at. Errors name the job dir or the URL (credentials
/// redacted).
Status ArchiveJobDir(const std::string& base_url, const std::filesystem::path& root,
                     const std::filesystem::path& job_dir, const std::string& task_id,
                     std::string* url);

}  // namespace verdi
