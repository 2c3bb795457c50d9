#include "verdi/cli/python_builtins.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace verdi {
namespace {

// `text` without the whitespace around it.
std::string Strip(const std::string& text) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  size_t begin = 0, end = text.size();
  while (end > begin && is_space(text[end - 1])) --end;
  while (begin < end && is_space(text[begin])) ++begin;
  return text.substr(begin, end - begin);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// int(text, base) as Python parses it: whitespace around, a sign,
// underscores between digits, base 0 for prefixed literals.
std::optional<int64_t> ParseIntText(const std::string& text, int base) {
  std::string body = Strip(text);
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body = body.substr(1);
  }
  std::string prefix = Lower(body.substr(0, 2));
  int prefix_base = prefix == "0x" ? 16 : prefix == "0o" ? 8 : prefix == "0b" ? 2 : 0;
  if (prefix_base != 0 && (base == 0 || base == prefix_base)) {
    body = body.substr(2);
    if (!body.empty() && body[0] == '_') body = body.substr(1);
    base = prefix_base;
  } else if (base == 0) {
    if (body.size() > 1 && body[0] == '0' && body.find_first_not_of("0_") != std::string::npos)
      return std::nullopt;
    base = 10;
  }
  std::string digits;
  for (size_t k = 0; k < body.size(); ++k) {
    if (body[k] == '_') {
      if (k == 0 || k + 1 == body.size() || body[k + 1] == '_') return std::nullopt;
      continue;
    }
    digits.push_back(body[k]);
  }
  if (digits.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

// float(text): Python's decimal spellings, with underscores between digits;
// inf and nan are refused (JSON has no such numbers), and so is hex.
enum class FloatText { kOk, kInvalid, kNotFinite };
FloatText ParseFloatText(const std::string& raw, double* out) {
  std::string text = Strip(raw);
  std::string lower = Lower(text);
  std::string unsigned_part =
      lower.empty() || (lower[0] != '+' && lower[0] != '-') ? lower : lower.substr(1);
  if (unsigned_part == "inf" || unsigned_part == "infinity" || unsigned_part == "nan")
    return FloatText::kNotFinite;
  std::string clean;
  for (size_t k = 0; k < text.size(); ++k) {
    char c = text[k];
    if (c == '_') {
      bool between = k > 0 && k + 1 < text.size() &&
                     std::isdigit(static_cast<unsigned char>(text[k - 1])) &&
                     std::isdigit(static_cast<unsigned char>(text[k + 1]));
      if (!between) return FloatText::kInvalid;
      continue;
    }
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-'))
      return FloatText::kInvalid;
    clean.push_back(c);
  }
  if (clean.empty()) return FloatText::kInvalid;
  char* end = nullptr;
  double v = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return FloatText::kInvalid;
  if (std::isinf(v)) return FloatText::kNotFinite;
  *out = v;
  return FloatText::kOk;
}

// int(x=0, base=10).
PyValue Int(const PyArgs& args, const PyToken& at) {
  std::map<std::string, PyValue> bound;
  if (auto raised = BindPyArgs(args, {"x", "base"}, false, "int", at, &bound)) return *raised;
  const Json* x = PyArg(bound, "x");
  const Json* base = PyArg(bound, "base");
  if (x == nullptr) return PyValue::Data(0);
  if (base != nullptr && (!x->is_string() || !PyIsInteger(*base)))
    return PyValue::Raise(at, "TypeError: int() can't convert non-string with explicit base");
  if (x->is_string()) {
    int b = base ? static_cast<int>(PyAsInt(*base)) : 10;
    auto v = ParseIntText(x->get<std::string>(), b);
    if (!v)
      return PyValue::Raise(
          at, fmt::format("ValueError: invalid literal for int() with base {}: '{}'", b,
                          x->get<std::string>()));
    return PyValue::Data(*v);
  }
  if (PyIsInteger(*x)) return PyValue::Data(PyAsInt(*x));
  if (x->is_number_float()) {
    double d = std::trunc(x->get<double>());
    if (std::abs(d) > 9.2e18) return PyValue::Unknown(at, "integers beyond 64 bits");
    return PyValue::Data(static_cast<int64_t>(d));
  }
  return PyValue::Raise(
      at, fmt::format("TypeError: int() argument must be a string or a number, not '{}'",
                      PyTypeName(*x)));
}

// float(x=0.0).
PyValue Float(const Json* x, const PyToken& at) {
  if (x == nullptr) return PyValue::Data(0.0);
  if (PyIsNumber(*x)) return PyValue::Data(PyAsDouble(*x));
  if (!x->is_string())
    return PyValue::Raise(
        at, fmt::format("TypeError: float() argument must be a string or a number, not '{}'",
                        PyTypeName(*x)));
  double d = 0;
  switch (ParseFloatText(x->get<std::string>(), &d)) {
    case FloatText::kOk:
      return PyValue::Data(d);
    case FloatText::kNotFinite:
      return PyValue::Unknown(at, "infinite and NaN numbers");
    case FloatText::kInvalid:
      break;
  }
  return PyValue::Raise(at, fmt::format("ValueError: could not convert string to float: '{}'",
                                        x->get<std::string>()));
}

// list(), tuple(), set() and frozenset() of `x`, an iterable or nothing.
PyValue Collection(const std::string& name, const Json* x, const PyToken& at) {
  Json items = Json::array();
  if (x != nullptr) {
    if (x->is_array()) {
      items = *x;
    } else if (x->is_object()) {
      for (const auto& [k, v] : x->items()) items.push_back(k);
    } else if (x->is_string()) {
      return PyValue::Unknown(at, fmt::format("{}() of a string", name));
    } else {
      return PyValue::Raise(at,
                            fmt::format("TypeError: '{}' object is not iterable", PyTypeName(*x)));
    }
  }
  return PyValue::Data(name == "set" || name == "frozenset" ? PySet(items) : items);
}

// dict(x, **keywords): x a dict or a sequence of pairs.
PyValue Dict(const Json* x, const PyArgs& args, const PyToken& at) {
  Json d = Json::object();
  if (x != nullptr) {
    if (x->is_object()) {
      d = *x;
    } else if (x->is_array()) {
      for (const Json& pair : *x) {
        if (!pair.is_array() || pair.size() != 2)
          return PyValue::Raise(
              at, "ValueError: dictionary update sequence element has the wrong length");
        auto k = PyDictKey(pair[0]);
        if (!k) return PyValue::Unknown(at, "dict keys that are not str, int, float, bool or None");
        d[*k] = pair[1];
      }
    } else {
      return PyValue::Raise(at,
                            fmt::format("TypeError: '{}' object is not iterable", PyTypeName(*x)));
    }
  }
  for (const auto& [name, v] : args.keywords) d[name] = v.data;
  return PyValue::Data(d);
}

}  // namespace

bool IsPyBuiltin(std::string_view name) {
  static const std::set<std::string, std::less<>> kBuiltins = {
      "int", "float", "str", "bool", "list", "tuple", "set", "dict", "frozenset"};
  return kBuiltins.count(name) > 0;
}

PyValue CallPyBuiltin(const std::string& name, const PyArgs& args, const PyToken& at) {
  if (!args.keywords.empty() && name != "dict" && name != "int")
    return PyValue::Raise(at, fmt::format("TypeError: {}() takes no keyword arguments", name));
  if (args.positional.size() > (name == "int" ? 2u : 1u))
    return PyValue::Raise(at, fmt::format("TypeError: {}() takes at most 1 argument", name));
  const Json* x = args.positional.empty() ? nullptr : &args.positional[0].data;
  if (name == "int") return Int(args, at);
  if (name == "float") return Float(x, at);
  if (name == "str") {
    if (x == nullptr) return PyValue::Data("");
    auto s = PyStr(*x);
    if (!s) return PyValue::Unknown(at, "str() of a container");
    return PyValue::Data(*s);
  }
  if (name == "bool") return PyValue::Data(x != nullptr && PyTruthy(*x));
  if (name == "list" || name == "tuple" || name == "set" || name == "frozenset")
    return Collection(name, x, at);
  if (name == "dict") return Dict(x, args, at);
  return PyValue::Unknown(at, fmt::format("calls to `{}` are not evaluated", name));
}

}  // namespace verdi
