#include "verdi/cli/python_call.h"

#include <algorithm>

#include <fmt/format.h>

#include "verdi/cli/python_builtins.h"
#include "verdi/cli/python_kombu.h"
#include "verdi/cli/python_modules.h"

namespace verdi {

std::optional<PyValue> BindPyArgs(const PyArgs& args, const std::vector<std::string>& params,
                                  bool extra_keywords, const std::string& callee, const PyToken& at,
                                  std::map<std::string, PyValue>* out) {
  if (args.positional.size() > params.size())
    return PyValue::Raise(
        at, fmt::format("TypeError: {}() takes at most {} positional arguments ({} given)", callee,
                        params.size(), args.positional.size()));
  for (size_t i = 0; i < args.positional.size(); ++i) (*out)[params[i]] = args.positional[i];
  for (const auto& [name, v] : args.keywords) {
    bool known = std::find(params.begin(), params.end(), name) != params.end();
    if (!known && !extra_keywords)
      return PyValue::Raise(
          at, fmt::format("TypeError: {}() got an unexpected keyword argument '{}'", callee, name));
    if (!out->emplace(name, v).second)
      return PyValue::Raise(
          at, fmt::format("TypeError: {}() got multiple values for argument '{}'", callee, name));
  }
  return std::nullopt;
}

const Json* PyArg(const std::map<std::string, PyValue>& bound, const std::string& name) {
  auto it = bound.find(name);
  return it == bound.end() ? nullptr : &it->second.data;
}

PyValue CallPython(const PyValue& callee, const PyArgs& args, const PyToken& at,
                   const EnvLookup& env) {
  if (callee.kind == PyValue::kUnknown) return callee;
  if (callee.kind == PyValue::kData)
    return PyValue::Raise(
        at, fmt::format("TypeError: '{}' object is not callable", PyTypeName(callee.data)));
  auto not_data = [&](const PyValue& a) {
    return a.kind == PyValue::kUnknown
               ? a
               : PyValue::Unknown(at, fmt::format("`{}` as an argument", a.object));
  };
  for (const PyValue& a : args.positional)
    if (!a.known()) return not_data(a);
  for (const auto& [name, a] : args.keywords)
    if (!a.known()) return not_data(a);
  const std::string& f = callee.object;
  if (f.rfind("builtins.", 0) == 0) return CallPyBuiltin(f.substr(9), args, at);
  if (f == "kombu.Queue") return KombuEntity("Queue", args, at);
  if (f == "kombu.Exchange") return KombuEntity("Exchange", args, at);
  return CallPyModuleFunction(f, args, at, env);
}

}  // namespace verdi
