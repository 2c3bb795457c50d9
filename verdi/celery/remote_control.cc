#include "verdi/celery/remote_control.h"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "events/celery_event.h"
#include "verdi/celery/task_message.h"

namespace verdi {
namespace {

Json Ok(const std::string& text) { return {{"ok", text}}; }
Json Error(const std::string& text) { return {{"error", text}}; }

// A Python exception repr with one string argument: Name('text').
std::string PyException(const std::string& name, const std::string& text) {
  return name + "(" + PythonRepr(Json(text)) + ")";
}

// Celery's maybe_list: a string is one id, a list its string items.
std::vector<std::string> IdList(const Json* value) {
  std::vector<std::string> ids;
  auto add = [&](const Json& v) {
    if (!v.is_string()) return;
    std::string id = v.get<std::string>();
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  if (value == nullptr) return ids;
  if (value->is_array())
    for (const auto& v : *value) add(v);
  else
    add(*value);
  return ids;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Json Info(const ControlTask& t, const std::string& nodename) {
  return {{"id", t.id},
          {"name", t.name},
          {"args", t.args},
          {"kwargs", t.kwargs},
          {"type", t.name},
          {"hostname", nodename},
          {"time_start", t.time_start ? Json(*t.time_start) : Json(nullptr)},
          {"acknowledged", t.acknowledged},
          {"delivery_info",
           {{"exchange", t.exchange},
            {"routing_key", t.routing_key},
            {"priority", t.priority},
            {"redelivered", t.redelivered}}},
          {"worker_pid", t.worker_pid ? Json(t.worker_pid) : Json(nullptr)}};
}

Json InfoList(const std::vector<ControlTask>& tasks, const std::string& nodename) {
  Json list = Json::array();
  for (const auto& t : tasks) list.push_back(Info(t, nodename));
  return list;
}

// kombu's Queue.as_dict(recurse=True) for a queue as Celery declares -Q name.
Json QueueDict(const ControlQueue& q) {
  Json args = q.arguments.is_object() && !q.arguments.empty() ? q.arguments : Json(nullptr);
  Json max_priority = nullptr;
  if (args.is_object() && args.contains("x-max-priority")) max_priority = args["x-max-priority"];
  return {{"name", q.name},
          {"exchange",
           {{"name", q.name},
            {"type", "direct"},
            {"arguments", nullptr},
            {"durable", true},
            {"passive", false},
            {"auto_delete", false},
            {"delivery_mode", nullptr},
            {"no_declare", false}}},
          {"routing_key", q.name},
          {"queue_arguments", args},
          {"binding_arguments", nullptr},
          {"consumer_arguments", nullptr},
          {"durable", true},
          {"exclusive", false},
          {"auto_delete", false},
          {"no_ack", false},
          {"alias", nullptr},
          {"bindings", Json::array()},
          {"no_declare", nullptr},
          {"expires", nullptr},
          {"message_ttl", nullptr},
          {"max_length", nullptr},
          {"max_length_bytes", nullptr},
          {"max_priority", max_priority}};
}

Json Stats(const WorkerSnapshot& w) {
  Json total = Json::object();
  if (w.processed > 0) total[kRunJobTaskName] = w.processed;
  Json stats = {{"total", total},
                {"pid", w.pid},
                {"clock", std::to_string(w.clock)},
                {"uptime", w.uptime_seconds},
                {"pool",
                 {{"implementation", "verdi"},
                  {"max-concurrency", w.autoscale ? w.autoscale->max : w.concurrency},
                  {"processes", Json::array({w.pid})},
                  {"max-tasks-per-child", "N/A"},
                  {"put-guarded-by-semaphore", false},
                  {"timeouts", Json::array({0, 0})}}},
                {"broker", w.broker},
                {"prefetch_count", w.prefetch_count},
                {"rusage", w.rusage}};
  // Celery's Autoscaler.info(): the range, the pool's size, the tasks held.
  if (w.autoscale)
    stats["autoscaler"] = {{"max", w.autoscale->max},
                           {"min", w.autoscale->min},
                           {"current", w.concurrency},
                           {"qty", w.busy}};
  return stats;
}

struct Call {
  const Json& args;
  const WorkerSnapshot& w;
  ControlDecision* d;
  const Json* Arg(const char* name) const {
    if (!args.is_object()) return nullptr;
    auto it = args.find(name);
    return it == args.end() || it->is_null() ? nullptr : &*it;
  }
  bool Flag(const char* name) const {
    const Json* v = Arg(name);
    return v != nullptr && (v->is_boolean() ? v->get<bool>() : !v->is_number() || *v != 0);
  }
  std::string Str(const char* name) const {
    const Json* v = Arg(name);
    return v != nullptr && v->is_string() ? v->get<std::string>() : "";
  }
  // An integer argument, `fallback` when absent; nullopt when it is there
  // but not an integer.
  std::optional<int64_t> Int(const char* name, std::optional<int64_t> fallback) const {
    const Json* v = Arg(name);
    if (v == nullptr) return fallback;
    if (!v->is_number_integer()) return std::nullopt;
    return v->get<int64_t>();
  }
};

// What verdi answers for a command of Celery's worker it does not carry out.
Json NotSupported(const std::string& method, const std::string& why) {
  return Error(method + " is not supported by verdi: " + why);
}

// pool_grow and pool_shrink: the pool's size moved by n (Celery's `n`, 1 by
// default), as the worker of Celery 5 answers them.
Json MovePool(const Call& c, const std::string& method, int sign) {
  if (c.w.autoscale)
    return Error(method + " is not supported with autoscale. Adjust autoscale range instead.");
  std::optional<int64_t> n = c.Int("n", 1);
  if (!n || *n < 0)
    return Error(PyException("ValueError", method + ": n must be a whole number of job slots"));
  int64_t size = c.w.concurrency + sign * *n;
  if (size < 1)
    return Error(fmt::format(
        "{}: the pool has {} job slot(s) and keeps at least 1 (shut the worker down instead)",
        method, c.w.concurrency));
  if (size > kMaxJobSlots)
    return Error(fmt::format("{}: the pool has {} job slot(s) and may have at most {}", method,
                             c.w.concurrency, kMaxJobSlots));
  c.d->effects.pool_size = static_cast<int>(size);
  return Ok(sign > 0 ? "pool will grow" : "pool will shrink");
}

// autoscale(max, min): Celery's Autoscaler.update, either bound optional.
Json Autoscale(const Call& c) {
  if (!c.w.autoscale) return Error(PyException("ValueError", "Autoscale not enabled"));
  std::optional<int64_t> max = c.Int("max", c.w.autoscale->max);
  std::optional<int64_t> min = c.Int("min", c.w.autoscale->min);
  if (!max || !min || *max < 1 || *max > kMaxJobSlots || *min < 0 || *min > *max)
    return Error(PyException("ValueError",
                             fmt::format("autoscale: expected 0 <= min <= max, 1 <= max <= {}; got "
                                         "max={} min={}",
                                         kMaxJobSlots, c.Arg("max") ? c.Arg("max")->dump() : "None",
                                         c.Arg("min") ? c.Arg("min")->dump() : "None")));
  c.d->effects.autoscale = AutoscaleRange{static_cast<int>(*max), static_cast<int>(*min)};
  return Ok(fmt::format("autoscale now max={} min={}", *max, *min));
}

Json Revoke(const Call& c, bool terminate) {
  std::vector<std::string> ids = IdList(c.Arg("task_id"));
  int signum = SIGTERM;
  if (terminate) {
    const Json* sig = c.Arg("signal");
    if (sig != nullptr) {
      Status st = ParseSignal(*sig, &signum);
      if (!st.ok()) return Error(st.message());
    }
  }
  c.d->effects.revoke = ids;
  if (!terminate) return Ok("tasks " + Join(ids) + " flagged as revoked");
  c.d->effects.terminate_signal = signum;
  std::vector<std::string> running;
  for (const auto& id : ids)
    for (const auto& t : c.w.active)
      if (t.id == id) running.push_back(id);
  if (running.empty()) return Ok("terminate: tasks unknown");
  return Ok("terminate: " + Join(running));
}

using Handler = std::function<std::optional<Json>(const Call&)>;

const std::map<std::string, Handler>& Handlers() {
  static const std::map<std::string, Handler> handlers = {
      {"ping", [](const Call&) { return Ok("pong"); }},
      {"stats", [](const Call& c) { return Stats(c.w); }},
      {"active", [](const Call& c) { return InfoList(c.w.active, c.w.nodename); }},
      {"reserved", [](const Call& c) { return InfoList(c.w.reserved, c.w.nodename); }},
      {"scheduled",
       [](const Call& c) {
         Json list = Json::array();
         for (const auto& t : c.w.scheduled)
           list.push_back({{"eta", t.eta.empty() ? Json(nullptr) : Json(t.eta)},
                           {"priority", 6},
                           {"request", Info(t, c.w.nodename)}});
         return list;
       }},
      {"registered",
       [](const Call&) {
         return Json::array({kRunJobTaskName, kNoopTaskName});
       }},
      {"revoked",
       [](const Call& c) {
         Json ids = Json::array();
         for (const auto& r : c.w.revoked) ids.push_back(r.id);
         return ids;
       }},
      {"active_queues",
       [](const Call& c) {
         Json list = Json::array();
         for (const auto& q : c.w.queues) list.push_back(QueueDict(q));
         return list;
       }},
      {"conf", [](const Call& c) { return c.w.conf; }},
      {"query_task",
       [](const Call& c) {
         Json out = Json::object();
         for (const auto& id : IdList(c.Arg("ids"))) {
           for (const auto& t : c.w.active)
             if (t.id == id) out[id] = Json::array({"active", Info(t, c.w.nodename)});
           for (const auto* list : {&c.w.reserved, &c.w.scheduled})
             for (const auto& t : *list)
               if (t.id == id) out[id] = Json::array({"reserved", Info(t, c.w.nodename)});
         }
         return out;
       }},
      {"clock",
       [](const Call& c) {
         return Json{{"clock", c.w.clock}};
       }},
      {"report",
       [](const Call& c) {
         return Ok("software -> verdi (Celery-compatible HySDS job worker)\nnode -> " +
                   c.w.nodename + "\ntasks -> " + kRunJobTaskName);
       }},
      {"hello",
       [](const Call& c) -> std::optional<Json> {
         if (c.Str("from_node") == c.w.nodename) return std::nullopt;
         // The sender's LimitedSet._data ({id: [time, id]}), or a list of ids.
         if (const Json* theirs = c.Arg("revoked"); theirs != nullptr && theirs->is_object()) {
           for (const auto& [id, when] : theirs->items()) c.d->effects.revoke.push_back(id);
         } else {
           c.d->effects.revoke = IdList(theirs);
         }
         // Ours as LimitedSet._data: the revoke time a float, which the
         // other worker's LimitedSet.update requires.
         Json revoked = Json::object();
         for (const auto& r : c.w.revoked) revoked[r.id] = Json::array({r.revoked_at, r.id});
         return Json{{"revoked", revoked}, {"clock", c.w.clock}};
       }},
      // Python's heartbeat returns None: a caller asking for a reply gets null.
      {"heartbeat",
       [](const Call& c) -> std::optional<Json> {
         c.d->effects.heartbeat = true;
         return Json(nullptr);
       }},
      {"enable_events",
       [](const Call& c) {
         if (c.w.task_events) return Ok("task events already enabled");
         c.d->effects.task_events = true;
         return Ok("task events enabled");
       }},
      {"disable_events",
       [](const Call& c) {
         if (!c.w.task_events) return Ok("task events already disabled");
         c.d->effects.task_events = false;
         return Ok("task events disabled");
       }},
      {"revoke", [](const Call& c) { return Revoke(c, c.Flag("terminate")); }},
      {"terminate", [](const Call& c) { return Revoke(c, true); }},
      {"shutdown",
       [](const Call& c) -> std::optional<Json> {
         c.d->effects.shutdown = true;
         return std::nullopt;
       }},
      {"add_consumer",
       [](const Call& c) {
         std::string q = c.Str("queue");
         c.d->effects.add_consumer = q;
         return Ok("add consumer " + q);
       }},
      {"cancel_consumer",
       [](const Call& c) {
         std::string q = c.Str("queue");
         c.d->effects.cancel_consumer = q;
         return Ok("no longer consuming from " + q);
       }},
      {"time_limit",
       [](const Call& c) {
         if (c.Str("task_name") != kRunJobTaskName) return Error("unknown task");
         return Error(
             "time limits of hysds.job_worker.run_job cannot be changed remotely: set "
             "job_info.time_limit / soft_time_limit or the message's timelimit");
       }},
      {"rate_limit",
       [](const Call& c) {
         if (c.Str("task_name") != kRunJobTaskName) return Error("unknown task");
         return Error("rate limits are not supported by verdi");
       }},
      {"pool_grow", [](const Call& c) { return MovePool(c, "pool_grow", 1); }},
      {"pool_shrink", [](const Call& c) { return MovePool(c, "pool_shrink", -1); }},
      {"autoscale", [](const Call& c) { return Autoscale(c); }},
      {"pool_restart",
       [](const Call&) {
         return NotSupported("pool_restart",
                             "its job slots are threads that import no task modules, and every "
                             "job already starts as a new process: there is nothing to reload");
       }},
      {"memsample",
       [](const Call&) {
         return NotSupported("memsample",
                             "it samples no memory; its peak resident size is in stats "
                             "(rusage.maxrss) and the process_resident_memory_bytes metric");
       }},
      {"memdump",
       [](const Call&) {
         return NotSupported("memdump",
                             "it keeps no memory samples; its peak resident size is in stats "
                             "(rusage.maxrss) and the process_resident_memory_bytes metric");
       }},
      {"objgraph",
       [](const Call&) {
         return NotSupported("objgraph", "it is not written in Python: there is no object graph");
       }},
      {"election",
       [](const Call&) {
         return NotSupported("election", "it does not gossip, so it takes part in no election");
       }},
  };
  // Celery's older names of the inspect commands.
  static const std::map<std::string, Handler> with_aliases = [] {
    std::map<std::string, Handler> all = handlers;
    for (auto [alias, name] :
         {std::pair{"dump_conf", "conf"}, std::pair{"dump_schedule", "scheduled"},
          std::pair{"dump_reserved", "reserved"}, std::pair{"dump_active", "active"},
          std::pair{"dump_revoked", "revoked"}, std::pair{"dump_tasks", "registered"}})
      all[alias] = handlers.at(name);
    return all;
  }();
  return with_aliases;
}

}  // namespace

std::string PidboxQueueName(const std::string& nodename) { return nodename + ".celery.pidbox"; }

bool GlobMatch(const std::string& p, const std::string& s) {
  // Iterative matcher with backtracking on the last '*'.
  size_t pi = 0, si = 0, star = std::string::npos, mark = 0;
  auto class_match = [&](size_t at, char ch, size_t* end) {
    size_t i = at + 1;
    bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
    if (negate) ++i;
    bool found = false;
    size_t first = i;
    while (i < p.size() && (p[i] != ']' || i == first)) {
      if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
        if (p[i] <= ch && ch <= p[i + 2]) found = true;
        i += 3;
      } else {
        if (p[i] == ch) found = true;
        ++i;
      }
    }
    if (i >= p.size()) return -1;  // no closing ']': a literal '['
    *end = i + 1;
    return found != negate ? 1 : 0;
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
      continue;
    }
    if (pi < p.size()) {
      if (p[pi] == '?') {
        ++pi, ++si;
        continue;
      }
      if (p[pi] == '[') {
        size_t end = 0;
        int m = class_match(pi, s[si], &end);
        if (m == 1) {
          pi = end, ++si;
          continue;
        }
        if (m == -1 && s[si] == '[') {
          ++pi, ++si;
          continue;
        }
      } else if (p[pi] == s[si]) {
        ++pi, ++si;
        continue;
      }
    }
    if (star == std::string::npos) return false;
    pi = star + 1;
    si = ++mark;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool IsAddressed(const Json& body, const std::string& nodename) {
  if (!body.is_object()) return false;
  auto dest = body.find("destination");
  if (dest != body.end() && dest->is_array() && !dest->empty()) {
    for (const auto& d : *dest)
      if (d.is_string() && d.get<std::string>() == nodename) return true;
    return false;
  }
  auto pattern = body.find("pattern");
  auto matcher = body.find("matcher");
  if (pattern != body.end() && pattern->is_string() && matcher != body.end() &&
      matcher->is_string()) {
    std::string p = pattern->get<std::string>();
    std::string m = matcher->get<std::string>();
    if (m == "pcre") {
      try {
        return std::regex_search(nodename, std::regex(p), std::regex_constants::match_continuous);
      } catch (const std::regex_error&) {
        return false;
      }
    }
    return GlobMatch(p, nodename);
  }
  return true;
}

Status ParseSignal(const Json& value, int* signum) {
  if (value.is_number_integer()) {
    *signum = value.get<int>();
    return Status::OK();
  }
  std::string name = value.is_string() ? value.get<std::string>() : "";
  bool upper = !name.empty() && std::any_of(name.begin(), name.end(), ::isupper) &&
               std::none_of(name.begin(), name.end(), ::islower);
  if (!upper)
    return Status::Invalid(PyException("TypeError", "signal name must be uppercase string."));
  if (name.rfind("SIG", 0) != 0) name = "SIG" + name;
  static const std::map<std::string, int> names = {
      {"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},       {"SIGQUIT", SIGQUIT}, {"SIGILL", SIGILL},
      {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT},     {"SIGIOT", SIGIOT},   {"SIGBUS", SIGBUS},
      {"SIGFPE", SIGFPE},   {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1}, {"SIGSEGV", SIGSEGV},
      {"SIGUSR2", SIGUSR2}, {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM}, {"SIGTERM", SIGTERM},
      {"SIGCHLD", SIGCHLD}, {"SIGCONT", SIGCONT},     {"SIGSTOP", SIGSTOP}, {"SIGTSTP", SIGTSTP},
      {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},   {"SIGXCPU", SIGXCPU},
      {"SIGXFSZ", SIGXFSZ}, {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH},
      {"SIGIO", SIGIO},     {"SIGPOLL", SIGPOLL},     {"SIGSYS", SIGSYS}};
  auto it = names.find(name);
  if (it == names.end())
    return Status::Invalid(
        PyException("AttributeError", "module 'signal' has no attribute '" + name + "'"));
  *signum = it->second;
  return Status::OK();
}

ControlDecision HandleControl(const Json& body, const WorkerSnapshot& worker) {
  ControlDecision d;
  if (!IsAddressed(body, worker.nodename)) return d;
  d.addressed = true;
  // Every field of a broadcast is untrusted: a method that is not a string
  // gets an error reply, never an exception that would stop the worker.
  auto method_it = body.find("method");
  std::string method =
      method_it != body.end() && method_it->is_string() ? method_it->get<std::string>() : "";
  static const Json kNoArgs = Json::object();
  auto args_it = body.find("arguments");
  const Json& args = args_it != body.end() && args_it->is_object() ? *args_it : kNoArgs;
  std::optional<Json> reply;
  auto it = Handlers().find(method);
  if (it == Handlers().end()) {
    reply = Error(PyException("KeyError", method));
  } else {
    try {
      reply = it->second(Call{args, worker, &d});
    } catch (const std::exception& e) {
      d.effects = ControlEffects();
      reply = Error(PyException("Exception", e.what()));
    }
  }
  auto reply_to = body.find("reply_to");
  if (reply && reply_to != body.end() && reply_to->is_object()) {
    d.reply = true;
    d.reply_body = {{worker.nodename, *reply}};
  }
  return d;
}

Json CurrentRusage() {
  rusage r{};
  if (getrusage(RUSAGE_SELF, &r) != 0) return "N/A";
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return {{"utime", seconds(r.ru_utime)}, {"stime", seconds(r.ru_stime)}, {"maxrss", r.ru_maxrss},
          {"ixrss", r.ru_ixrss},          {"idrss", r.ru_idrss},          {"isrss", r.ru_isrss},
          {"minflt", r.ru_minflt},        {"majflt", r.ru_majflt},        {"nswap", r.ru_nswap},
          {"inblock", r.ru_inblock},      {"oublock", r.ru_oublock},      {"msgsnd", r.ru_msgsnd},
          {"msgrcv", r.ru_msgrcv},        {"nsignals", r.ru_nsignals},    {"nvcsw", r.ru_nvcsw},
          {"nivcsw", r.ru_nivcsw}};
}

Json BrokerInfo(const AmqpUrl& url) {
  return {{"hostname", url.host},
          {"userid", url.user},
          {"virtual_host", url.vhost},
          {"port", url.port},
          {"insist", false},
          {"ssl", url.tls},
          {"transport", "amqp"},
          {"connect_timeout", url.connect_timeout_seconds},
          {"transport_options", Json::object()},
          {"login_method", "PLAIN"},
          {"uri_prefix", nullptr},
          {"heartbeat", static_cast<double>(url.heartbeat_seconds)},
          {"failover_strategy", "round-robin"},
          {"alternates", Json::array()},
          {"credential_provider", nullptr}};
}

}  // namespace verdi
