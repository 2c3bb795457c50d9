// A job's pre- and post-processors, as HySDS's worker lists them: the
// built-in ones unless the job-spec disables them, then the job-spec's own
// `pre` / `post`, in that order. Pure: which name runs what is decided here,
// running them is verdi/job's business.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jobspec/json_field.h"

namespace verdi {

enum class ProcessorPhase { kPre, kPost };

/// "pre-processor" or "post-processor", for logs and errors.
const char* ProcessorLabel(ProcessorPhase phase);

/// The HySDS functions verdi runs with its own implementation.
enum class BuiltinProcessor {
  kNone,                   // not one: a Python function `module.func(job, context)`
  kLocalizeUrls,           // hysds.localize.localize_urls
  kMarkLocalizedDatasets,  // hysds.utils.mark_localized_datasets
  kValidateChecksumFiles,  // hysds.utils.validate_checksum_files
  kPublishDatasets,        // hysds.dataset_ingest_bulk.publish_datasets
  kTriage,                 // hysds.triage.triage
};

/// The built-in a name stands for: HySDS's current names, the names of
/// earlier HySDS versions (hysds.utils.localize_urls, .publish_datasets,
/// .triage) and the parallel variants of localize and publish, which verdi's
/// own implementations cover.
BuiltinProcessor FindBuiltinProcessor(std::string_view name);

/// HySDS's PRE_PROCESSORS or POST_PROCESSORS.
const std::vector<std::string>& DefaultProcessors(ProcessorPhase phase);

/// The processors of `job` (the run_job payload as the worker holds it) for
/// `phase`, in the order HySDS runs them: DefaultProcessors unless
/// params.job_specification.disable_pre_builtins / disable_post_builtins is
/// true (for the post phase also when the job was deduped), then the
/// job-spec's `pre` / `post`. Read from the document each time, as HySDS
/// does: a pre-processor may change what follows. A `pre` / `post` that is
/// not a list of strings, or a flag that is not a boolean, is Invalid naming
/// the field.
Status ProcessorsOf(const Json& job, ProcessorPhase phase, bool deduped,
                    std::vector<std::string>* names);

}  // namespace verdi
