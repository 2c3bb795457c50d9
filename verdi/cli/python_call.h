// Calls in a celeryconfig.py, for the reader of python_config.h: a call's
// arguments, their binding to a function's parameters, and the function a
// callee names (python_modules.h, python_kombu.h, python_builtins.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/env_vars.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {

/// The arguments of a call.
struct PyArgs {
  std::vector<PyValue> positional;
  std::vector<std::pair<std::string, PyValue>> keywords;
};

/// The arguments by parameter name into `out`: positional ones first, then
/// keywords. A raised TypeError (nullopt when bound) on more positional
/// arguments than `params`, one given twice, or a keyword not in `params`
/// unless `extra_keywords`; `callee` names the function in it.
std::optional<PyValue> BindPyArgs(const PyArgs& args, const std::vector<std::string>& params,
                                  bool extra_keywords, const std::string& callee, const PyToken& at,
                                  std::map<std::string, PyValue>* out);

/// The value bound to the parameter `name`, nullptr when none was given.
const Json* PyArg(const std::map<std::string, PyValue>& bound, const std::string& name);

/// callee(args), called at `at`: unknown when the callee or an argument is
/// unknown or a module, or the function is not one the reader evaluates;
/// raised for the exception Python raises. `env` gives the environment
/// variables.
PyValue CallPython(const PyValue& callee, const PyArgs& args, const PyToken& at,
                   const EnvLookup& env);

}  // namespace verdi
