// The modules a celeryconfig.py imports, as far as the reader of
// python_config.h knows them: ssl's CERT_* and PROTOCOL_* constants,
// os.environ, os.getenv, os.path.join and datetime.timedelta; kombu's
// Queue and Exchange are python_kombu.h.
#pragma once

#include <string>

#include "base/env_vars.h"
#include "verdi/cli/python_call.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {

/// What the dotted name of a module or an attribute ("ssl.CERT_NONE",
/// "os.environ") is: a constant's value, else the object of that name, under
/// the name the reader calls it by ("posixpath.join" is "os.path.join").
PyValue ResolvePyName(std::string dotted);

/// object[key], at `at`: os.environ[K] from `env` (raised: a KeyError when
/// unset, a TypeError for a key that is not a string); unknown for the
/// other objects.
PyValue PyModuleItem(const std::string& object, const Json& key, const PyToken& at,
                     const EnvLookup& env);

/// function(args), at `at`, for a function of a module: os.environ.get,
/// os.getenv, os.path.join, datetime.timedelta (its seconds, a float);
/// raised: the TypeError Python raises on bad arguments; unknown for the
/// functions the reader does not evaluate.
PyValue CallPyModuleFunction(const std::string& function, const PyArgs& args, const PyToken& at,
                             const EnvLookup& env);

}  // namespace verdi
