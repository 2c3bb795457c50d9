// A product's metadata (as HySDS's publish step reads it): <id>.met.json when
// the job wrote one, else what the datasets.json entry's extractor prints,
// else {}.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobspec/job_files.h"
#include "jobspec/json_field.h"
#include "publish/datasets_config.h"
#include "publish/products.h"

namespace verdi::publish {

/// How a helper process (an extractor) ended.
struct ProcessOutput {
  int exit_code = 0;  // negative: killed by that signal
  bool timed_out = false;
  std::string out, err;
};

/// Runs argv (no shell) and waits at most `timeout`, killing it after. The
/// caller (the worker) owns processes; publish only asks. Returns an error
/// only when the process could not be run at all.
using ProcessRunner = std::function<Status(const std::vector<std::string>& argv,
                                           std::chrono::seconds timeout, ProcessOutput* output)>;

/// Reads or makes the metadata of `product` in the job dir `dir`. The
/// extractor command's `$VAR`s come from verdi's environment (unset:
/// empty). With an extractor, its stdout must be a JSON object; `data_product_name` is
/// added, a seed `met.json` in the product dir is merged (and deleted), and
/// `<id>.met.json` is written. The job's files are read and written through
/// `dir` (no symlink followed, regular files only). Errors name the product,
/// the entry and the extractor.
Status LoadMetadata(const JobDir& dir, const Product& product, const DatasetRule& rule,
                    const ProcessRunner& run, std::chrono::seconds timeout, Json* met);

}  // namespace verdi::publish
