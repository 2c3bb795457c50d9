// celeryconfig.py files read without Python: the subset of Python that real
// deployments write, evaluated in C++ so that a worker node needs no Python.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/env_vars.h"
#include "jobspec/json_field.h"

namespace verdi {

/// One top-level name a file assigns: its value, or why it has none.
struct PythonSetting {
  /// The value as JSON (meaningful when `error` is empty): tuples and lists
  /// are arrays, sets sorted arrays, dicts objects (keys as json.dumps
  /// writes them), `datetime.timedelta(...)` its seconds (a float), kombu's
  /// `Queue(...)` and `Exchange(...)` objects {"__kombu__": "Queue", ...}
  /// with the arguments given, positional ones under their names.
  Json value;
  /// Not empty when the value is an expression this reader does not
  /// evaluate (a call of an unknown function, a lambda, a comprehension,
  /// an f-string, a name assigned inside an `if` ...): "line:column: why".
  std::string error;
  /// Where the value starts, or with an error where its problem is (1-based).
  int line = 0, column = 0;
};

/// What a file sets.
struct PythonConfig {
  std::map<std::string, PythonSetting> settings;
  /// Statements not run that assign no name: "line:column: `text`: why"
  /// (a call such as `app.conf.update(...)`, `from m import *`).
  std::vector<std::string> skipped;
};

/// Evaluates `text`, a Python module of assignments, as Python would:
/// - statements: `import m[.n] [as x]`, `from m import a [as b], ...`,
///   `NAME = ...` (also `A = B = ...`, `NAME += ...`, `NAME: T = ...`),
///   `pass`, `del NAME`, docstrings, `;` between statements, comments
///   anywhere; a compound statement (`if`, `for`, `try`, `def`, ...) is not
///   run: each name assigned in it gets an `error` instead of a value;
/// - literals: numbers in every spelling (`5.`, `.5`, `1e3`, `1_000`,
///   `0x1F`), strings in every quoting (prefixes r, u, f without fields;
///   escapes; triple quotes) with implicit concatenation, lists, tuples,
///   dicts, sets, True, False, None, `*x` and `**x` in displays;
/// - names assigned earlier in the file; `+ - * / // % **`, `not`, `and`,
///   `or`, `==`, `!=`, `in`, `is`, `x if c else y`, subscripts;
/// - `int() float() str() bool() list() tuple() set() dict()`,
///   `os.environ.get(K[, D])`, `os.environ[K]`, `os.getenv(K[, D])`,
///   `os.path.join(...)`, `ssl.CERT_*` and `ssl.PROTOCOL_*`,
///   `datetime.timedelta(...)`, `kombu.Queue(...)`, `kombu.Exchange(...)`.
/// Anything else gives its setting an `error`, not a failure. Invalid
/// ("where:line:column: ...") for what makes Python itself refuse the file:
/// a syntax error, a bad indentation, an unset `os.environ[K]`, `int("x")`,
/// a division by zero, `"a" + 1`. `env` gives the environment variables.
Status EvaluatePythonConfig(const std::string& text, const std::string& where, const EnvLookup& env,
                            PythonConfig* out);

}  // namespace verdi
