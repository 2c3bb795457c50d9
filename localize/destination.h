// Where each localize_urls entry lands in the job directory.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"

namespace verdi::localize {

/// The destination of entry `index` ({url, local_path}) in `job_dir`:
/// - empty local_path: <job_dir>/<basename(url)>;
/// - local_path ending in '/' or naming an existing directory:
///   <job_dir>/<local_path>/<basename(url)>;
/// - else <job_dir>/<local_path>.
/// local_path is relative to the job dir. Anything that would land outside
/// it (an absolute path, "..", a symlink on the way), or on a name the
/// worker writes in the job dir (IsReservedJobFile), is Status::Invalid
/// naming "localize_urls[<index>]".
Status Destination(const std::filesystem::path& job_dir, size_t index, const std::string& url,
                   const std::string& local_path, std::filesystem::path* out);

/// Whether `name`, at the top of a job dir, is one the worker writes or
/// renames there (_stdout.txt, _job.json, .done, ..., their temporary
/// `<name>.tmp...` forms, .extractor-* and .processor-* scratch dirs). An input linked there
/// would let the worker, or the job, write into the input cache.
bool IsReservedJobFile(const std::string& name);

}  // namespace verdi::localize
