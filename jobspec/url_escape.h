// %XX escapes in URLs, shared by every URL parser (AMQP, Redis, localize).
#pragma once

#include <string>
#include <string_view>

namespace verdi {

/// Decodes %XX escapes; '+' becomes a space when `plus_is_space` (query
/// strings). A '%' that starts no valid escape is an error (false) when
/// `strict`, else it is kept as it is.
bool PercentDecode(std::string_view in, bool plus_is_space, bool strict, std::string* out);

/// The lenient form, as Python's urllib.parse.unquote: bad escapes kept, '+'
/// kept.
std::string PercentDecode(std::string_view in);

}  // namespace verdi
