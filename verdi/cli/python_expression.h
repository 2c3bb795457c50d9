// One expression of a celeryconfig.py evaluated, for the reader of
// python_config.h: literals and displays (lists, tuples, dicts, sets, `*x`
// and `**x` in them), names, `not`, `and`, `or` and `x if c else y` with
// Python's short circuits, operators (python_operators.h), attributes,
// subscripts and calls (python_call.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/env_vars.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {

/// The value, in `*out`, of tokens[begin, end): an expression, or several
/// separated by commas (a tuple). `names` are the names the module has
/// assigned, `env` gives the environment variables. Unknown for syntax the
/// reader does not evaluate. Invalid ("where:line:column: ...") for the
/// exception Python raises evaluating it, unless raised in a branch Python
/// does not run (`x if c else 1/0`, `a or 1/0`).
Status EvaluatePyExpression(const std::vector<PyToken>& tokens, size_t begin, size_t end,
                            const std::map<std::string, PyValue>& names, const std::string& where,
                            const EnvLookup& env, PyValue* out);

}  // namespace verdi
