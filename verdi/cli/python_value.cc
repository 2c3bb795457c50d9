#include "verdi/cli/python_value.h"

#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace verdi {

PyValue PyValue::Data(Json j) {
  PyValue v;
  v.data = std::move(j);
  return v;
}

PyValue PyValue::Object(std::string name) {
  PyValue v;
  v.kind = kObject;
  v.object = std::move(name);
  return v;
}

PyValue PyValue::Unknown(const PyToken& at, std::string why) {
  PyValue v;
  v.kind = kUnknown;
  v.why = std::move(why);
  v.line = at.line;
  v.column = at.column;
  return v;
}

PyValue PyValue::Raise(const PyToken& at, std::string message) {
  PyValue v = Unknown(at, std::move(message));
  v.raised = true;
  return v;
}

bool PyIsNumber(const Json& j) { return j.is_number() || j.is_boolean(); }
bool PyIsInteger(const Json& j) { return j.is_number_integer() || j.is_boolean(); }
int64_t PyAsInt(const Json& j) {
  return j.is_boolean() ? (j.get<bool>() ? 1 : 0) : j.get<int64_t>();
}
double PyAsDouble(const Json& j) {
  return j.is_boolean() ? (j.get<bool>() ? 1.0 : 0.0) : j.get<double>();
}

std::string PyTypeName(const Json& j) {
  if (j.is_null()) return "NoneType";
  if (j.is_boolean()) return "bool";
  if (j.is_number_integer()) return "int";
  if (j.is_number_float()) return "float";
  if (j.is_string()) return "str";
  if (j.is_array()) return "list";
  return j.is_object() && j.contains("__kombu__") ? j["__kombu__"].get<std::string>() : "dict";
}

bool PyTruthy(const Json& j) {
  if (j.is_null()) return false;
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number()) return PyAsDouble(j) != 0;
  if (j.is_string()) return !j.get_ref<const std::string&>().empty();
  return !j.empty();  // containers
}

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end);  // e.g. "-1.2345e+17"
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  int exponent = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits.push_back(c);
  std::string out;
  int point = exponent + 1;  // digits before the decimal point
  if (exponent >= -4 && exponent < 16) {
    if (point <= 0) {
      out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (static_cast<size_t>(point) >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(point);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  }
  return negative ? "-" + out : out;
}

std::optional<std::string> PyStr(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "None";
  if (j.is_boolean()) return j.get<bool>() ? "True" : "False";
  if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
  if (j.is_number_float()) return PyFloatRepr(j.get<double>());
  return std::nullopt;
}

std::optional<std::string> PyDictKey(const Json& j) {
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  if (j.is_null()) return "null";
  if (j.is_array() || j.is_object()) return std::nullopt;
  return PyStr(j);
}

bool PyEquals(const Json& a, const Json& b) {
  if (PyIsNumber(a) && PyIsNumber(b)) {
    if (PyIsInteger(a) && PyIsInteger(b)) return PyAsInt(a) == PyAsInt(b);
    return PyAsDouble(a) == PyAsDouble(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!PyEquals(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a.items())
      if (!b.contains(k) || !PyEquals(v, b[k])) return false;
    return true;
  }
  return a == b;
}

Json PySet(const Json& items) {
  std::map<std::string, Json> by_text;
  for (const Json& item : items) by_text.emplace(item.dump(), item);
  Json out = Json::array();
  for (auto& [text, item] : by_text) out.push_back(item);
  return out;
}

}  // namespace verdi
