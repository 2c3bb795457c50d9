#include "verdi/cli/python_modules.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace verdi {
namespace {

// Module attributes that are values.
const std::map<std::string, int64_t, std::less<>> kConstants = {
    {"ssl.CERT_NONE", 0},
    {"ssl.CERT_OPTIONAL", 1},
    {"ssl.CERT_REQUIRED", 2},
    {"ssl.PROTOCOL_SSLv23", 2},
    {"ssl.PROTOCOL_TLS", 2},
    {"ssl.PROTOCOL_TLS_CLIENT", 16},
    {"ssl.PROTOCOL_TLS_SERVER", 17},
    {"ssl.PROTOCOL_TLSv1", 3},
    {"ssl.PROTOCOL_TLSv1_1", 4},
    {"ssl.PROTOCOL_TLSv1_2", 5},
};

// Other names of the callables the reader evaluates.
const std::map<std::string, std::string, std::less<>> kAliases = {
    {"kombu.entity.Queue", "kombu.Queue"},
    {"kombu.entity.Exchange", "kombu.Exchange"},
    {"posixpath.join", "os.path.join"},
};

// os.environ.get(key, default=None) and os.getenv(key, default=None).
PyValue GetEnv(const std::string& function, const PyArgs& args, const PyToken& at,
               const EnvLookup& env) {
  std::map<std::string, PyValue> bound;
  if (auto raised = BindPyArgs(args, {"key", "default"}, false, function, at, &bound))
    return *raised;
  const Json* key = PyArg(bound, "key");
  if (key == nullptr)
    return PyValue::Raise(at, fmt::format("TypeError: {}() missing the argument 'key'", function));
  if (!key->is_string())
    return PyValue::Raise(at, fmt::format("TypeError: str expected, not {}", PyTypeName(*key)));
  if (auto value = env(key->get<std::string>())) return PyValue::Data(*value);
  const Json* fallback = PyArg(bound, "default");
  return PyValue::Data(fallback ? *fallback : Json(nullptr));
}

// os.path.join(a, *p): a part from '/' on starts the path again.
PyValue JoinPath(const PyArgs& args, const PyToken& at) {
  if (!args.keywords.empty() || args.positional.empty())
    return PyValue::Raise(at, "TypeError: os.path.join() takes one or more paths");
  std::string path;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    const Json& part = args.positional[i].data;
    if (!part.is_string())
      return PyValue::Raise(at, fmt::format("TypeError: expected str, not {}", PyTypeName(part)));
    std::string b = part.get<std::string>();
    if (i == 0 || (!b.empty() && b[0] == '/'))
      path = b;
    else if (path.empty() || path.back() == '/')
      path += b;
    else
      path += "/" + b;
  }
  return PyValue::Data(path);
}

// datetime.timedelta(...): its total seconds, to the microsecond.
PyValue Timedelta(const PyArgs& args, const PyToken& at) {
  static const std::vector<std::string> kParams = {
      "days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"};
  static const double kSeconds[] = {86400, 1, 1e-6, 1e-3, 60, 3600, 604800};
  std::map<std::string, PyValue> bound;
  if (auto raised = BindPyArgs(args, kParams, false, "timedelta", at, &bound)) return *raised;
  double total = 0;
  for (size_t i = 0; i < kParams.size(); ++i) {
    const Json* v = PyArg(bound, kParams[i]);
    if (v == nullptr) continue;
    if (!PyIsNumber(*v))
      return PyValue::Raise(
          at, fmt::format("TypeError: unsupported type for timedelta {} component: {}", kParams[i],
                          PyTypeName(*v)));
    total += PyAsDouble(*v) * kSeconds[i];
  }
  return PyValue::Data(std::round(total * 1e6) / 1e6);
}

}  // namespace

PyValue ResolvePyName(std::string dotted) {
  if (auto c = kConstants.find(dotted); c != kConstants.end()) return PyValue::Data(c->second);
  if (auto a = kAliases.find(dotted); a != kAliases.end()) dotted = a->second;
  return PyValue::Object(dotted);
}

PyValue PyModuleItem(const std::string& object, const Json& key, const PyToken& at,
                     const EnvLookup& env) {
  if (object != "os.environ")
    return PyValue::Unknown(at, fmt::format("subscripts of `{}` are not evaluated", object));
  if (!key.is_string())
    return PyValue::Raise(at, fmt::format("TypeError: str expected, not {}", PyTypeName(key)));
  std::string name = key.get<std::string>();
  if (auto value = env(name)) return PyValue::Data(*value);
  return PyValue::Raise(
      at, fmt::format("KeyError: os.environ['{}']: the environment variable {} is not set", name,
                      name));
}

PyValue CallPyModuleFunction(const std::string& function, const PyArgs& args, const PyToken& at,
                             const EnvLookup& env) {
  if (function == "os.environ.get" || function == "os.getenv")
    return GetEnv(function, args, at, env);
  if (function == "os.path.join") return JoinPath(args, at);
  if (function == "datetime.timedelta") return Timedelta(args, at);
  return PyValue::Unknown(at, fmt::format("calls to `{}` are not evaluated", function));
}

}  // namespace verdi
