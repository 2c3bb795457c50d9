#include "verdi/cli/python_operators.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "verdi/cli/python_modules.h"

namespace verdi {

PyValue PyUnary(const std::string& op, const PyValue& v, const PyToken& at) {
  if (!v.known())
    return v.kind == PyValue::kUnknown ? v : PyValue::Unknown(at, "arithmetic on a module");
  if (!PyIsNumber(v.data))
    return PyValue::Raise(
        at, fmt::format("TypeError: bad operand type for unary {}: '{}'", op, PyTypeName(v.data)));
  if (op == "+") return PyValue::Data(PyIsInteger(v.data) ? Json(PyAsInt(v.data)) : v.data);
  if (PyIsInteger(v.data)) {
    int64_t i = PyAsInt(v.data);
    if (i == std::numeric_limits<int64_t>::min())
      return PyValue::Unknown(at, "integers beyond 64 bits");
    return PyValue::Data(-i);
  }
  return PyValue::Data(-v.data.get<double>());
}

PyValue PyCompare(const std::string& op, const PyValue& a, const PyValue& b, const PyToken& at) {
  if (a.kind == PyValue::kUnknown) return a;
  if (b.kind == PyValue::kUnknown) return b;
  if (!a.known() || !b.known()) return PyValue::Unknown(at, "comparing modules");
  const Json &x = a.data, &y = b.data;
  if (op == "==") return PyValue::Data(PyEquals(x, y));
  if (op == "!=") return PyValue::Data(!PyEquals(x, y));
  if (op == "is" || op == "is not") {
    bool scalar = x.is_null() || y.is_null() || x.is_boolean() || y.is_boolean();
    if (!scalar) return PyValue::Unknown(at, "`is` between values other than None, True and False");
    bool same = x.type() == y.type() && x == y;
    return PyValue::Data(op == "is" ? same : !same);
  }
  if (op == "in" || op == "not in") {
    bool found = false;
    if (y.is_string() && x.is_string()) {
      found = y.get<std::string>().find(x.get<std::string>()) != std::string::npos;
    } else if (y.is_array()) {
      found = std::any_of(y.begin(), y.end(), [&](const Json& e) { return PyEquals(e, x); });
    } else if (y.is_object()) {
      auto key = PyDictKey(x);
      found = key && y.contains(*key);
    } else {
      return PyValue::Raise(
          at, fmt::format("TypeError: argument of type '{}' is not iterable", PyTypeName(y)));
    }
    return PyValue::Data(op == "in" ? found : !found);
  }
  int order = 0;
  if (PyIsNumber(x) && PyIsNumber(y)) {
    double dx = PyAsDouble(x), dy = PyAsDouble(y);
    order = dx < dy ? -1 : dx > dy ? 1 : 0;
  } else if (x.is_string() && y.is_string()) {
    int c = x.get<std::string>().compare(y.get<std::string>());
    order = c < 0 ? -1 : c > 0 ? 1 : 0;
  } else {
    return PyValue::Unknown(at, fmt::format("ordering {} and {}", PyTypeName(x), PyTypeName(y)));
  }
  bool r = op == "<" ? order < 0 : op == ">" ? order > 0 : op == "<=" ? order <= 0 : order >= 0;
  return PyValue::Data(r);
}

PyValue PyBinary(const std::string& op, const PyValue& a, const PyValue& b, const PyToken& at) {
  if (a.kind == PyValue::kUnknown) return a;
  if (b.kind == PyValue::kUnknown) return b;
  if (!a.known() || !b.known()) return PyValue::Unknown(at, "arithmetic on a module");
  const Json &x = a.data, &y = b.data;
  auto type_error = [&] {
    return PyValue::Raise(
        at, fmt::format("TypeError: unsupported operand type(s) for {}: '{}' and '{}'", op,
                        PyTypeName(x), PyTypeName(y)));
  };
  if (PyIsNumber(x) && PyIsNumber(y)) {
    bool ints = PyIsInteger(x) && PyIsInteger(y);
    if (ints && op != "/") {
      __int128 l = PyAsInt(x), r = PyAsInt(y), v = 0;
      if ((op == "//" || op == "%") && r == 0)
        return PyValue::Raise(at, "ZeroDivisionError: integer division or modulo by zero");
      if (op == "+") {
        v = l + r;
      } else if (op == "-") {
        v = l - r;
      } else if (op == "*") {
        v = l * r;
      } else if (op == "//" || op == "%") {
        __int128 q = l / r;
        if ((l % r != 0) && ((l < 0) != (r < 0))) --q;  // floor
        v = op == "//" ? q : l - q * r;
      } else if (op == "**") {
        if (r < 0) return PyValue::Data(std::pow(static_cast<double>(l), static_cast<double>(r)));
        v = 1;
        for (__int128 k = 0; k < r; ++k) {
          v *= l;
          if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min())
            return PyValue::Unknown(at, "integers beyond 64 bits");
        }
      }
      if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min())
        return PyValue::Unknown(at, "integers beyond 64 bits");
      return PyValue::Data(static_cast<int64_t>(v));
    }
    double l = PyAsDouble(x), r = PyAsDouble(y), v = 0;
    if ((op == "/" || op == "//" || op == "%") && r == 0)
      return PyValue::Raise(at, ints ? "ZeroDivisionError: division by zero"
                                     : "ZeroDivisionError: float division by zero");
    if (op == "+") v = l + r;
    if (op == "-") v = l - r;
    if (op == "*") v = l * r;
    if (op == "/") v = l / r;
    if (op == "//") v = std::floor(l / r);
    if (op == "%") {
      v = std::fmod(l, r);
      if (v != 0 && ((v < 0) != (r < 0))) v += r;
    }
    if (op == "**") v = std::pow(l, r);
    if (!std::isfinite(v)) return PyValue::Unknown(at, "numbers beyond a double");
    return PyValue::Data(v);
  }
  if (op == "+" && x.is_string() && y.is_string())
    return PyValue::Data(x.get<std::string>() + y.get<std::string>());
  if (op == "+" && x.is_array() && y.is_array()) {
    Json v = x;
    for (const Json& e : y) v.push_back(e);
    return PyValue::Data(v);
  }
  if (op == "*" && (x.is_string() || x.is_array() || y.is_string() || y.is_array())) {
    const Json& seq = x.is_string() || x.is_array() ? x : y;
    const Json& n = &seq == &x ? y : x;
    if (!PyIsInteger(n)) return type_error();
    Json v = seq.is_string() ? Json("") : Json::array();
    for (int64_t k = 0; k < PyAsInt(n); ++k) {
      if (seq.is_string())
        v = v.get<std::string>() + seq.get<std::string>();
      else
        for (const Json& e : seq) v.push_back(e);
    }
    return PyValue::Data(v);
  }
  if (op == "%" && x.is_string()) return PyValue::Unknown(at, "%-formatting is not evaluated");
  return type_error();
}

PyValue PySubscript(const PyValue& v, const PyValue& key, const PyToken& at, const EnvLookup& env) {
  if (v.kind == PyValue::kUnknown) return v;
  if (key.kind == PyValue::kUnknown) return key;
  if (!key.known()) return PyValue::Unknown(at, "a module as a key");
  if (v.kind == PyValue::kObject) {
    return PyModuleItem(v.object, key.data, at, env);
  }
  const Json& d = v.data;
  if (d.is_object()) {
    auto k = PyDictKey(key.data);
    if (!k) return PyValue::Unknown(at, "a container as a key");
    if (!d.contains(*k)) return PyValue::Raise(at, fmt::format("KeyError: {}", key.data.dump()));
    return PyValue::Data(d[*k]);
  }
  if (d.is_array() || d.is_string()) {
    if (!PyIsInteger(key.data))
      return PyValue::Raise(
          at, fmt::format("TypeError: indices must be integers, not {}", PyTypeName(key.data)));
    int64_t size = static_cast<int64_t>(d.size());
    if (d.is_string()) {
      const std::string& s = d.get_ref<const std::string&>();
      if (std::any_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        return PyValue::Unknown(at, "indexing a non-ASCII string");
      size = static_cast<int64_t>(s.size());
    }
    int64_t i = PyAsInt(key.data);
    if (i < 0) i += size;
    if (i < 0 || i >= size) return PyValue::Raise(at, "IndexError: index out of range");
    if (d.is_string())
      return PyValue::Data(std::string(1, d.get<std::string>()[static_cast<size_t>(i)]));
    return PyValue::Data(d[static_cast<size_t>(i)]);
  }
  return PyValue::Raise(at,
                        fmt::format("TypeError: '{}' object is not subscriptable", PyTypeName(d)));
}

PyValue PySpread(const std::vector<PyValue>& items, const PyToken& at) {
  Json out = Json::array();
  for (const PyValue& item : items) {
    if (item.kind == PyValue::kUnknown) return item;
    if (item.kind == PyValue::kObject && item.object == "*") {
      if (item.data.is_array()) {
        for (const Json& x : item.data) out.push_back(x);
      } else if (item.data.is_object()) {
        for (const auto& [k, v] : item.data.items()) out.push_back(k);
      } else {
        return item.data.is_string()
                   ? PyValue::Unknown(at, "unpacking a string")
                   : PyValue::Raise(at, fmt::format("TypeError: {} object is not iterable",
                                                    PyTypeName(item.data)));
      }
    } else if (item.kind == PyValue::kObject) {
      return PyValue::Unknown(at, fmt::format("`{}` is not a value", item.object));
    } else {
      out.push_back(item.data);
    }
  }
  return PyValue::Data(out);
}

}  // namespace verdi
