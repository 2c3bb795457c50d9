#include "verdi/cli/worker_queues.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace verdi {
namespace {

std::vector<std::string> CommaList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

// Celery's default exchange and routing key: task_default_exchange and
// task_default_routing_key, each the default queue's name when unset.
struct Defaults {
  std::string exchange, exchange_type, routing_key;
};

// kombu's Queue arguments that are queue arguments (x-...) when declared,
// and their factor (seconds to milliseconds).
struct KombuArgument {
  const char* name;
  const char* amqp;
  double factor;
};
constexpr KombuArgument kKombuArguments[] = {
    {"max_priority", "x-max-priority", 1},         {"expires", "x-expires", 1000},
    {"message_ttl", "x-message-ttl", 1000},        {"max_length", "x-max-length", 1},
    {"max_length_bytes", "x-max-length-bytes", 1},
};

// One kombu Queue (python_config.h's JSON form) as a QueueSpec.
Status FromKombu(const Json& q, const std::string& where, const Defaults& d, QueueSpec* spec,
                 std::vector<std::string>* warnings) {
  if (!q.is_object() || q.value("__kombu__", "") != "Queue")
    return Status::Invalid(where + ": expected a kombu Queue(...), got " + DescribeJson(q));
  if (!q.contains("name") || !q["name"].is_string() || q["name"].get<std::string>().empty())
    return Status::Invalid(where + ": a Queue needs a name");
  spec->name = q["name"].get<std::string>();
  std::string here = fmt::format("{} (queue {})", where, spec->name);
  const Json exchange = q.value("exchange", Json());
  if (exchange.is_string()) {
    spec->exchange = exchange.get<std::string>();
  } else if (exchange.is_object() && exchange.value("__kombu__", "") == "Exchange") {
    spec->exchange = exchange.value("name", "");
    spec->exchange_type = exchange.value("type", "");
    for (const auto& [key, value] : exchange.items())
      if (key != "__kombu__" && key != "name" && key != "type" &&
          !(key == "durable" && value == true))
        warnings->push_back(fmt::format("{}: Exchange {}: not used by verdi", here, key));
  } else if (!exchange.is_null()) {
    return Status::Invalid(here + ": exchange: expected a name or an Exchange(...), got " +
                           DescribeJson(exchange));
  }
  if (spec->exchange.empty()) {
    spec->exchange = d.exchange;
    spec->exchange_type = d.exchange_type;
  }
  if (spec->exchange_type.empty()) spec->exchange_type = "direct";
  spec->routing_key = q.value("routing_key", Json("")).is_string()
                          ? q.value("routing_key", std::string())
                          : std::string();
  if (spec->routing_key.empty()) spec->routing_key = d.routing_key;
  Json arguments = q.value("queue_arguments", Json::object());
  if (arguments.is_null()) arguments = Json::object();
  if (!arguments.is_object())
    return Status::Invalid(here + ": queue_arguments: expected a dict, got " +
                           DescribeJson(arguments));
  for (const auto& a : kKombuArguments) {
    if (!q.contains(a.name) || q[a.name].is_null()) continue;
    const Json& v = q[a.name];
    if (!v.is_number())
      return Status::Invalid(
          fmt::format("{}: {}: expected a number, got {}", here, a.name, DescribeJson(v)));
    arguments[a.amqp] = static_cast<int64_t>(std::llround(v.get<double>() * a.factor));
  }
  spec->arguments = arguments;
  for (const auto& [key, value] : q.items()) {
    bool known = key == "__kombu__" || key == "name" || key == "exchange" || key == "routing_key" ||
                 key == "queue_arguments" || (key == "durable" && value == true) ||
                 std::any_of(std::begin(kKombuArguments), std::end(kKombuArguments),
                             [&](const KombuArgument& a) { return key == a.name; });
    if (!known)
      warnings->push_back(
          fmt::format("{}: {}: not used by verdi (queues are declared durable, "
                      "not exclusive, not auto-deleted)",
                      here, key));
  }
  return Status::OK();
}

}  // namespace

Status MakeQueueSpecs(const WorkerFlags& f, std::vector<QueueSpec>* queues,
                      std::vector<std::string>* warnings) {
  queues->clear();
  Defaults d;
  d.exchange = f.default_exchange.empty() ? f.default_queue : f.default_exchange;
  d.exchange_type = f.default_exchange_type.empty() ? "direct" : f.default_exchange_type;
  d.routing_key = f.default_routing_key.empty() ? f.default_queue : f.default_routing_key;

  // The queues Celery knows: task_queues, else the default one.
  std::vector<QueueSpec> known;
  if (f.task_queues.is_array()) {
    for (size_t i = 0; i < f.task_queues.size(); ++i) {
      QueueSpec spec;
      VERDI_RETURN_IF_ERROR(
          FromKombu(f.task_queues[i], fmt::format("task_queues[{}]", i), d, &spec, warnings));
      known.push_back(std::move(spec));
    }
  } else if (f.task_queues.is_object()) {
    // Celery's older form: {name: {"exchange": ..., "routing_key": ..., ...}}.
    for (const auto& [name, options] : f.task_queues.items()) {
      if (!options.is_object())
        return Status::Invalid(
            fmt::format("task_queues['{}']: expected a dict, got {}", name, DescribeJson(options)));
      Json q = options;
      q["__kombu__"] = "Queue";
      q["name"] = name;
      if (q.contains("exchange_type")) {
        q["exchange"] = {{"__kombu__", "Exchange"},
                         {"name", q.value("exchange", "")},
                         {"type", q["exchange_type"]}};
        q.erase("exchange_type");
      }
      QueueSpec spec;
      VERDI_RETURN_IF_ERROR(
          FromKombu(q, fmt::format("task_queues['{}']", name), d, &spec, warnings));
      known.push_back(std::move(spec));
    }
  } else {
    known.push_back({f.default_queue, Json::object(), d.exchange, d.exchange_type, d.routing_key});
  }

  // -Q picks among them; a queue they lack is created, as Celery's
  // task_create_missing_queues does: a direct exchange and routing key of
  // its name.
  if (!f.queues.empty()) {
    std::vector<std::string> names = CommaList(f.queues);
    if (names.empty()) return Status::Invalid("-Q: no queue given in \"" + f.queues + "\"");
    for (const auto& name : names) {
      auto it = std::find_if(known.begin(), known.end(),
                             [&](const QueueSpec& q) { return q.name == name; });
      if (it != known.end()) {
        queues->push_back(*it);
      } else if (f.create_missing_queues) {
        queues->push_back({name, Json::object(), name, d.exchange_type, name});
      } else {
        return Status::Invalid(fmt::format(
            "-Q {}: not in task_queues, and task_create_missing_queues is False", name));
      }
    }
  } else {
    *queues = known;
  }
  for (const auto& name : CommaList(f.exclude_queues))
    queues->erase(std::remove_if(queues->begin(), queues->end(),
                                 [&](const QueueSpec& q) { return q.name == name; }),
                  queues->end());
  if (queues->empty()) return Status::Invalid("-X: every queue is excluded; none is left");

  // Arguments for every queue: x-max-priority where it has none (as
  // Celery's task_queue_max_priority), then --queue-arg.
  for (auto& q : *queues) {
    if (f.max_priority > 0 && !q.arguments.contains("x-max-priority"))
      q.arguments["x-max-priority"] = f.max_priority;
    for (const auto& arg : f.queue_args) {
      size_t eq = arg.find('=');
      if (eq == std::string::npos || eq == 0)
        return Status::Invalid("--queue-arg: expected KEY=VALUE, got \"" + arg + "\"");
      std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
      Json parsed = Json::parse(value, nullptr, false);  // numbers and booleans keep their type
      q.arguments[key] = parsed.is_number() || parsed.is_boolean() ? parsed : Json(value);
    }
  }
  return Status::OK();
}

}  // namespace verdi
