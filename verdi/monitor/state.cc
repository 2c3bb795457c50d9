#include "verdi/monitor/state.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "jobspec/job_status.h"

namespace verdi {
namespace {

bool IsFinal(const std::string& state) {
  return state == "SUCCESS" || state == "FAILURE" || state == "REVOKED" || state == "REJECTED";
}

double NumberOr(const Json& event, const char* key, double fallback) {
  auto it = event.find(key);
  return it != event.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string StringOr(const Json& event, const char* key) {
  auto it = event.find(key);
  return it != event.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// 'job_id': 'X' inside a Python repr of the run_job args.
std::string JobIdFromArgs(const std::string& args) {
  for (const char* marker : {"'job_id': '", "\"job_id\": \""}) {
    size_t at = args.find(marker);
    if (at == std::string::npos) continue;
    at += std::string_view(marker).size();
    size_t end = args.find(marker[0], at);
    if (end != std::string::npos) return args.substr(at, end - at);
  }
  return "";
}

std::string Clock(double t) {
  if (t <= 0) return "-";
  time_t secs = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:02}:{:02}:{:02}Z", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string Duration(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  int64_t s = static_cast<int64_t>(seconds);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace

bool MonitorWorker::Alive(double now) const {
  return !offline && last_heartbeat > 0 && now < last_heartbeat + freq * 2;
}

std::string ExceptionMessage(const std::string& repr) {
  size_t open = repr.find('(');
  if (open == std::string::npos || open == 0 || repr.size() < open + 4 || repr.back() != ')') {
    return repr;
  }
  for (size_t i = 0; i < open; ++i) {
    char c = repr[i];
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return repr;
  }
  char quote = repr[open + 1];
  if (quote != '\'' && quote != '"') return repr;
  std::string out;
  size_t i = open + 2;
  for (; i < repr.size() - 1; ++i) {
    char c = repr[i];
    if (c == quote) break;
    if (c == '\\' && i + 1 < repr.size() - 1) {
      char n = repr[++i];
      switch (n) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        default:
          out += n;
      }
      continue;
    }
    out += c;
  }
  // Exactly one string argument: E('msg') or E('msg',).
  std::string rest = repr.substr(i + 1);
  if (i >= repr.size() - 1 || (rest != ")" && rest != ",)")) return repr;
  return out;
}

MonitorState::MonitorState(size_t max_failures, size_t max_tasks)
    : max_failures_(max_failures), max_tasks_(max_tasks) {}

void MonitorState::Feed(const Json& body, double now) {
  if (body.is_array()) {
    for (const Json& event : body) FeedOne(event, now);
  } else {
    FeedOne(body, now);
  }
  Prune();
}

void MonitorState::SetJobStatusCounts(std::map<std::string, int64_t> counts, bool known) {
  job_statuses_ = std::move(counts);
  job_statuses_known_ = known;
}

MonitorWorker& MonitorState::WorkerOf(const std::string& hostname) {
  MonitorWorker& w = workers_[hostname];
  w.hostname = hostname;
  return w;
}

void MonitorState::FeedOne(const Json& event, double now) {
  if (!event.is_object()) return;
  std::string type = StringOr(event, "type");
  std::string hostname = StringOr(event, "hostname");
  if (type.empty() || hostname.empty()) return;
  double timestamp = NumberOr(event, "timestamp", now);

  if (type.rfind("worker-", 0) == 0) {
    MonitorWorker& w = WorkerOf(hostname);
    if (type == "worker-offline") {
      w.offline = true;
    } else if (type == "worker-online" || type == "worker-heartbeat") {
      w.offline = false;
      w.last_heartbeat = now;
    } else {
      return;
    }
    double freq = NumberOr(event, "freq", w.freq);
    if (freq > 0) w.freq = freq;
    w.active = static_cast<int64_t>(NumberOr(event, "active", static_cast<double>(w.active)));
    w.processed =
        static_cast<int64_t>(NumberOr(event, "processed", static_cast<double>(w.processed)));
    if (std::string s = StringOr(event, "sw_ident"); !s.empty()) w.sw_ident = s;
    if (std::string s = StringOr(event, "sw_ver"); !s.empty()) w.sw_ver = s;
    return;
  }
  if (type.rfind("task-", 0) != 0) return;
  std::string uuid = StringOr(event, "uuid");
  if (uuid.empty()) return;

  MonitorWorker& w = WorkerOf(hostname);
  // As Celery's State: a task event is a sign of life of its worker.
  if (!w.offline) w.last_heartbeat = now;

  MonitorTask& t = tasks_[uuid];
  t.uuid = uuid;
  t.hostname = hostname;
  if (std::string name = StringOr(event, "name"); !name.empty()) t.name = name;
  std::string previous = t.state;
  std::string next;
  if (type == "task-received") {
    t.received = timestamp;
    if (std::string job_id = JobIdFromArgs(StringOr(event, "args")); !job_id.empty()) {
      t.job_id = job_id;
    }
    next = "RECEIVED";
  } else if (type == "task-started") {
    t.started = timestamp;
    next = "STARTED";
  } else if (type == "task-succeeded") {
    t.finished = timestamp;
    t.runtime = NumberOr(event, "runtime", 0);
    next = "SUCCESS";
  } else if (type == "task-failed") {
    t.finished = timestamp;
    t.exception = StringOr(event, "exception");
    next = "FAILURE";
  } else if (type == "task-revoked") {
    t.finished = timestamp;
    next = "REVOKED";
  } else if (type == "task-rejected") {
    t.finished = timestamp;
    next = "REJECTED";
  } else {
    return;
  }
  // Out-of-order events never take a finished task back to running.
  if (IsFinal(previous) && !IsFinal(next)) return;
  if (previous == "STARTED" && next == "RECEIVED") return;
  t.state = next;
  if (IsFinal(next) && !IsFinal(previous)) {
    ++w.finished;
    if (next == "SUCCESS") ++w.succeeded;
    if (next == "FAILURE") {
      ++w.failed;
      MonitorFailure f;
      f.uuid = uuid;
      f.name = t.name;
      f.hostname = hostname;
      f.job_id = t.job_id;
      f.timestamp = timestamp;
      f.exception = t.exception;
      f.error = ExceptionMessage(t.exception);
      f.short_error = ShortError(f.error);
      failures_.push_front(std::move(f));
      while (failures_.size() > max_failures_) failures_.pop_back();
    }
  }
}

void MonitorState::Prune() {
  if (tasks_.size() <= max_tasks_) return;
  std::vector<std::pair<double, std::string>> finished;
  for (const auto& [uuid, t] : tasks_) {
    if (IsFinal(t.state)) finished.emplace_back(t.finished, uuid);
  }
  std::sort(finished.begin(), finished.end());
  for (const auto& [when, uuid] : finished) {
    if (tasks_.size() <= max_tasks_) break;
    tasks_.erase(uuid);
  }
}

std::vector<const MonitorTask*> MonitorState::ActiveTasks(const std::string& hostname) const {
  std::vector<const MonitorTask*> out;
  for (const auto& [uuid, t] : tasks_) {
    if (t.hostname == hostname && !IsFinal(t.state)) out.push_back(&t);
  }
  std::sort(out.begin(), out.end(), [](const MonitorTask* a, const MonitorTask* b) {
    double sa = a->started ? a->started : a->received, sb = b->started ? b->started : b->received;
    return sa < sb;
  });
  return out;
}

Json MonitorState::ToJson(double now) const {
  Json out = Json::object();
  out["time"] = now;
  Json workers = Json::array();
  for (const auto& [name, w] : workers_) {
    Json active = Json::array();
    for (const MonitorTask* t : ActiveTasks(name)) {
      Json a = {{"uuid", t->uuid}, {"name", t->name}, {"job_id", t->job_id}, {"state", t->state}};
      a["received"] = t->received > 0 ? Json(t->received) : Json(nullptr);
      a["started"] = t->started > 0 ? Json(t->started) : Json(nullptr);
      a["elapsed"] = t->started > 0 ? Json(std::max(0.0, now - t->started)) : Json(nullptr);
      active.push_back(std::move(a));
    }
    Json j = {{"hostname", w.hostname},
              {"alive", w.Alive(now)},
              {"offline", w.offline},
              {"freq", w.freq},
              {"active", w.active},
              {"processed", std::max(w.processed, w.finished)},
              {"succeeded", w.succeeded},
              {"failed", w.failed},
              {"sw_ident", w.sw_ident},
              {"sw_ver", w.sw_ver},
              {"active_tasks", std::move(active)}};
    j["last_heartbeat"] = w.last_heartbeat > 0 ? Json(w.last_heartbeat) : Json(nullptr);
    j["heartbeat_age"] = w.last_heartbeat > 0 ? Json(now - w.last_heartbeat) : Json(nullptr);
    workers.push_back(std::move(j));
  }
  out["workers"] = std::move(workers);
  Json tasks = Json::array();
  for (const auto& [uuid, t] : tasks_) {
    Json j = {{"uuid", t.uuid},          {"name", t.name},   {"job_id", t.job_id},
              {"hostname", t.hostname},  {"state", t.state}, {"runtime", t.runtime},
              {"exception", t.exception}};
    j["received"] = t.received > 0 ? Json(t.received) : Json(nullptr);
    j["started"] = t.started > 0 ? Json(t.started) : Json(nullptr);
    j["finished"] = t.finished > 0 ? Json(t.finished) : Json(nullptr);
    tasks.push_back(std::move(j));
  }
  out["tasks"] = std::move(tasks);
  Json failures = Json::array();
  for (const MonitorFailure& f : failures_) {
    failures.push_back({{"uuid", f.uuid},
                        {"name", f.name},
                        {"hostname", f.hostname},
                        {"job_id", f.job_id},
                        {"timestamp", f.timestamp},
                        {"exception", f.exception},
                        {"error", f.error},
                        {"short_error", f.short_error}});
  }
  out["failures"] = std::move(failures);
  if (job_statuses_known_) {
    Json counts = Json::object();
    for (const auto& [status, n] : job_statuses_) counts[status] = n;
    out["job_statuses"] = std::move(counts);
  }
  return out;
}

std::string MonitorState::RenderText(double now) const {
  size_t online = 0;
  for (const auto& [name, w] : workers_) online += w.Alive(now) ? 1 : 0;
  std::string out = fmt::format("verdi monitor  {}  workers: {} online, {} offline\n\n", Clock(now),
                                online, workers_.size() - online);
  size_t width = 6;
  for (const auto& [name, w] : workers_) width = std::max(width, name.size());
  out += fmt::format("{:<{}}  {:<7}  {:>6}  {:>9}  {:>6}  {}\n", "WORKER", width, "STATUS",
                     "ACTIVE", "PROCESSED", "FAILED", "LAST HEARTBEAT");
  for (const auto& [name, w] : workers_) {
    std::string beat = w.last_heartbeat > 0 ? Duration(now - w.last_heartbeat) + " ago" : "-";
    out += fmt::format("{:<{}}  {:<7}  {:>6}  {:>9}  {:>6}  {}\n", name, width,
                       w.Alive(now) ? "online" : "offline", w.active,
                       std::max(w.processed, w.finished), w.failed, beat);
    for (const MonitorTask* t : ActiveTasks(name)) {
      std::string elapsed = t->started > 0 ? Duration(now - t->started) : "-";
      out += fmt::format("    {}  {:<8}  {:>8}  {}{}\n", t->uuid, t->state, elapsed, t->name,
                         t->job_id.empty() ? "" : "  " + t->job_id);
    }
  }
  if (workers_.empty()) out += "(no worker seen yet)\n";
  if (job_statuses_known_) {
    out += "\nHySDS statuses:";
    if (job_statuses_.empty()) out += " (none)";
    for (const auto& [status, n] : job_statuses_) out += fmt::format("  {} {}", status, n);
    out += "\n";
  }
  out += "\nLAST FAILURES\n";
  if (failures_.empty()) out += "(none)\n";
  for (const MonitorFailure& f : failures_) {
    out += fmt::format("  {}  {}  {}  {}{}\n", Clock(f.timestamp), f.hostname, f.uuid,
                       f.short_error, f.job_id.empty() ? "" : "  (" + f.job_id + ")");
  }
  return out;
}

}  // namespace verdi
