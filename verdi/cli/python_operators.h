// Python's operators on the values of a celeryconfig.py, for the reader of
// python_config.h: arithmetic, comparisons, subscripts and `*x` in displays,
// with the exceptions Python raises. Each returns an unknown operand as it
// is.
#pragma once

#include <string>
#include <vector>

#include "base/env_vars.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {

/// a op b for `+ - * / // % **`, at `at`: ints as Python's (unknown beyond
/// 64 bits), floats, str and list concatenation and repetition. Raised: a
/// TypeError for other operands, a ZeroDivisionError; unknown: %-formatting,
/// a module as an operand, a float beyond a double.
PyValue PyBinary(const std::string& op, const PyValue& a, const PyValue& b, const PyToken& at);

/// -v and +v, at `at`. Raised: a TypeError for a value that is not a number.
PyValue PyUnary(const std::string& op, const PyValue& v, const PyToken& at);

/// a op b for `== != < > <= >= in not in is is not`, at `at`. Unknown: a
/// module as an operand, `is` between values other than None, True and
/// False, ordering values of different types; raised: `in` a value that is
/// not iterable.
PyValue PyCompare(const std::string& op, const PyValue& a, const PyValue& b, const PyToken& at);

/// v[key], at `at`: a dict's key, a list's or an ASCII string's index, and
/// os.environ[K] from `env` (python_modules.h). Raised: a KeyError, an
/// IndexError, a TypeError; unknown for other objects and keys.
PyValue PySubscript(const PyValue& v, const PyValue& key, const PyToken& at, const EnvLookup& env);

/// The array of a tuple's, list's or set's `items`, displayed at `at`, with
/// each kObject "*" (`*x`) spread: a list's items or a dict's keys. Raised:
/// a TypeError for `*x` of a value that is not iterable; unknown for an
/// unknown item, a module, and `*x` of a string.
PyValue PySpread(const std::vector<PyValue>& items, const PyToken& at);

}  // namespace verdi
