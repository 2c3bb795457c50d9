// `$VAR` and `${VAR}` expansion, from any source of values (a job's
// environment, the process's).
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace verdi {

/// The value of an environment variable, nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// `$NAME` and `${NAME}` replaced by lookup(NAME). A bare NAME is a letter or
/// '_' followed by letters, digits and '_'; a braced one is anything up to
/// the '}'. Left as written: names `lookup` does not know, a '$' followed by
/// no name ("$ ", "$1", a trailing '$'), and all the text from a '${' that
/// is never closed.
std::string ExpandEnvVars(const std::string& text, const EnvLookup& lookup);

/// The same from the process environment (getenv), where, as in a shell, an
/// unset name expands to nothing.
std::string ExpandEnvVars(const std::string& text);

}  // namespace verdi
