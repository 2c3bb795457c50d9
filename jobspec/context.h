// `_context.json`, composed as HySDS does: what the job's command reads to
// learn its params, and writes back to pass flags to the worker.
#pragma once

#include "jobspec/json_field.h"

namespace verdi {

/// Builds the context from the job document as the worker holds it just
/// before the command (container overrides applied, task_id set):
///   - the caller's `context`, wrapped as {"context": ...} when non-empty;
///   - every key of `params` at the top level;
///   - job_priority, container_image_name, container_image_url (null when
///     absent), container_mappings, runtime_options ({} when absent), and
///     container_image_urls when the job has it;
///   - _prov: {wasGeneratedBy: "task_id:<task_id>"};
///   - _force_ingest: the job's publish_overwrite_ok (false when absent).
Json ComposeContext(const Json& job_doc);

/// Whether the job's `context` is the worker's context, as in HySDS: a job
/// that comes with an empty `context` object has its worker fill that very
/// object, so its `context` (in `_job.json` and the statuses) is the
/// context as it stands at each point; any other job's is left as it came.
/// Decided on the job as it arrives.
bool SharesContext(const Json& job_doc);

/// Merges a context read back after the command into `context`: top-level
/// keys of `reloaded` replace those of `context`.
void MergeContext(const Json& reloaded, Json* context);

}  // namespace verdi
