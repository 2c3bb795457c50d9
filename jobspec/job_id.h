// Job ids become directory names under the work root, so they must not be
// able to name anything else.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace verdi {

/// Rejects an id that could escape or confuse the work root: empty, "." or
/// "..", containing '/', NUL or another control character, or longer than
/// 255 bytes (a file name's limit). `where` names the field ("job.job_id").
Status ValidateJobId(std::string_view id, const std::string& where);

}  // namespace verdi
