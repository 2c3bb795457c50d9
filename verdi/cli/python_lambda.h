// Running a hysds-io `lambda` as HySDS's resolver does (hysds_commons
// run_lambda): evaluated by python3 in a namespace holding `functools` and
// the helpers HySDS offers lambdas (`get_best_url`, `get_partial_products`,
// `region_to_bbox`), called with the value; for `verdi submit --as-rule`.
#pragma once

#include <string>

#include "jobspec/hysds_io.h"

namespace verdi {

/// Runs `wire.lambda` on `value` with `python3` (found on PATH) and reads
/// its result back as JSON into `*out`. Failed when python3 cannot be run;
/// Invalid with Python's exception ("<class 'KeyError'>:'urls'") when the
/// lambda does not compile, raises, or returns what JSON cannot hold.
Status RunPythonLambda(const HysdsIoParam& wire, const Json& value, Json* out);

}  // namespace verdi
