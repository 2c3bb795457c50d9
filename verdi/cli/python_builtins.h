// Python's built-in functions a celeryconfig.py calls, for the reader of
// python_config.h: int() float() str() bool() list() tuple() set()
// frozenset() dict().
#pragma once

#include <string>
#include <string_view>

#include "verdi/cli/python_call.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {

/// Whether `name` is one of them.
bool IsPyBuiltin(std::string_view name);

/// name(args), called at `at`, as Python computes it; raised: the TypeError
/// or ValueError Python raises (`int("x")`); unknown for what JSON cannot
/// hold (inf, integers beyond 64 bits), str() of a container, list() of a
/// string, and the functions the reader does not evaluate.
PyValue CallPyBuiltin(const std::string& name, const PyArgs& args, const PyToken& at);

}  // namespace verdi
