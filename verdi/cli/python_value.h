// What an expression of a celeryconfig.py evaluates to, for the reader of
// python_config.h, and Python's rules for the plain values it holds as JSON:
// their type names, truth, str(), equality, dict keys and sets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "jobspec/json_field.h"
#include "verdi/cli/python_tokens.h"

namespace verdi {

/// A value, a module or callable the reader knows by its dotted name
/// ("os.environ.get"), or unknown.
struct PyValue {
  enum Kind { kData, kObject, kUnknown };
  Kind kind = kData;
  /// kData: the value; also the operand of the kObject "*" (`*x` in a display).
  Json data;
  std::string object;  // kObject
  /// kUnknown: why, or with `raised` the exception ("TypeError: ...").
  std::string why;
  /// kUnknown: a Python exception, which makes the file unreadable if
  /// raised where Python runs it.
  bool raised = false;
  /// Where the value starts, or with kUnknown where its problem is.
  int line = 0, column = 0;

  static PyValue Data(Json j);
  static PyValue Object(std::string name);
  /// Something the reader does not evaluate, at `at`.
  static PyValue Unknown(const PyToken& at, std::string why);
  /// The exception Python raises at `at`: "TypeError: ...".
  static PyValue Raise(const PyToken& at, std::string message);
  bool known() const { return kind == kData; }
};

/// Numbers: bools are ints, as in Python.
bool PyIsNumber(const Json& j);
bool PyIsInteger(const Json& j);
int64_t PyAsInt(const Json& j);
double PyAsDouble(const Json& j);

/// Python's type name of a value, for TypeErrors.
std::string PyTypeName(const Json& j);

/// bool(j).
bool PyTruthy(const Json& j);

/// float.__repr__: the shortest digits that read back the same; fixed
/// notation for exponents from -4 to 15, else d.ddde+XX.
std::string PyFloatRepr(double d);

/// str() of a scalar; nullopt for containers.
std::optional<std::string> PyStr(const Json& j);

/// A dict key as json.dumps writes it; nullopt for keys it refuses.
std::optional<std::string> PyDictKey(const Json& j);

/// a == b.
bool PyEquals(const Json& a, const Json& b);

/// A set of `items`: sorted, each element once.
Json PySet(const Json& items);

}  // namespace verdi
