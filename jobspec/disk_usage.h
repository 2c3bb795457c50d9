// Sizes as job-specs write them: "10GB", "512MB", "1.5TB".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace verdi {

/// Parses a size: a number (digits, optionally with a fraction) followed
/// directly by KB, MB, GB or TB, in powers of 1024 as HySDS counts them.
/// Anything else is rejected with a message that starts with `where`.
Status ParseDiskUsage(std::string_view text, const std::string& where, uint64_t* bytes);

}  // namespace verdi
