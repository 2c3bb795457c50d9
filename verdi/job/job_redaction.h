// The credentials a job carries in URLs (its inputs, its images): shown as
// *** in everything verdi writes or reports about the job, and kept as they
// came for the code that needs them (a Python processor gets the job as
// HySDS's worker hands it over).
#pragma once

#include "jobspec/json_field.h"

namespace verdi {

/// The values RedactJob changes (localize_urls, params.localize_urls,
/// container_image_url, container_image_urls, dependency_images), as they
/// are, keyed by their JSON pointer ("/params/localize_urls").
Json UnredactedFields(const Json& job);

/// Puts the values UnredactedFields took back into `job` (a redacted copy),
/// where their place still exists.
void RestoreUnredactedFields(const Json& fields, Json* job);

/// A URL's password in those fields shown as `***` (base/redact.h).
void RedactJob(Json* job);

}  // namespace verdi
