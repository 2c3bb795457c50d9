// HySDS's mark_localized_datasets: input datasets get a `.localized`
// marker so that publishing does not publish them again.
#pragma once

#include <filesystem>
#include <vector>

#include "base/status.h"

namespace verdi::localize {

/// Writes `<dir>/.localized` (an ISO UTC timestamp) into every dataset
/// directory under `job_dir` — a directory D holding `<name of D>.dataset.json`
/// — following symlinks (so cached inputs count) but never visiting a
/// directory twice; one marked already is left as it is (a cache entry is
/// marked when it is filled, and read-only after). `marked` (may be null)
/// gets the dataset directories.
Status MarkLocalizedDatasets(const std::filesystem::path& job_dir,
                             std::vector<std::filesystem::path>* marked);

}  // namespace verdi::localize
