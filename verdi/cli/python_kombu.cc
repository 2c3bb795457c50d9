#include "verdi/cli/python_kombu.h"

#include <map>
#include <vector>

namespace verdi {

PyValue KombuEntity(const std::string& kind, const PyArgs& args, const PyToken& at) {
  static const std::vector<std::string> kQueue = {"name",    "exchange", "routing_key",
                                                  "channel", "bindings", "on_declared"};
  static const std::vector<std::string> kExchange = {"name", "type", "channel"};
  std::map<std::string, PyValue> bound;
  if (auto raised = BindPyArgs(args, kind == "Queue" ? kQueue : kExchange, true, kind, at, &bound))
    return *raised;
  Json object = {{"__kombu__", kind}};
  for (const auto& [name, v] : bound) object[name] = v.data;
  return PyValue::Data(object);
}

}  // namespace verdi
