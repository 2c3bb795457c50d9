// `verdi submit JOBSPEC`: resolves a job-spec and params into a run_job job
// as HySDS's resolver and orchestrator do, publishes it as a Celery task and,
// with --wait, waits for its result.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "jobspec/hysds_io.h"
#include "jobspec/job_resolver.h"
#include "jobspec/uuid.h"
#include "verdi/amqp/link.h"
#include "verdi/amqp/url.h"
#include "verdi/celery/result_backend.h"
#include "verdi/celery/result_document.h"
#include "verdi/celery/task_message.h"
#include "verdi/cli/broker_flags.h"
#include "verdi/cli/commands.h"
#include "verdi/cli/python_lambda.h"

namespace verdi {
namespace {

constexpr int kFailedExit = 1;       // the job ended in FAILURE or REVOKED
constexpr int kInvalidExit = 2;      // the submission cannot be resolved
constexpr int kTimeoutExit = 3;      // --wait ran out
constexpr int kUnreachableExit = 4;  // the broker or the result backend failed

struct SubmitOptions {
  std::string spec_file, io_file, params_file, dataset_file;
  std::vector<std::string> params;
  std::string type, name, queue, username, tag, disk_usage;
  int64_t priority = 0;
  std::optional<int64_t> soft_time_limit, time_limit;
  int64_t hard_time_limit_gap = 300;
  bool no_dedup = false;
  std::string container_image, container_image_url;
  bool dry_run = false, as_rule = false;
  BrokerFlags broker;
  int max_priority = 0;
  std::string result_backend;
  std::string task_serializer = "json", result_accept_content = "json,msgpack";
  std::vector<std::string> wait;  // empty: --wait without SECONDS
  bool waiting = false;
  std::string task_id, now;
};

Status ReadParams(const std::string& file, Json* params, std::string* where) {
  *where = file == "-" ? "stdin" : file;
  if (file == "-") {
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    VERDI_RETURN_IF_ERROR(ParseJsonText(text, *where, params));
  } else {
    VERDI_RETURN_IF_ERROR(ReadJsonFile(file, params));
  }
  if (!params->is_object())
    return Status::Invalid(fmt::format("{}: expected a JSON object of param values, got {}", *where,
                                       DescribeJson(*params)));
  return Status::OK();
}

// Everything up to the resolved job; no network.
Status BuildJob(const SubmitOptions& o, Json* job) {
  SubmitRequest r;
  r.spec_file = o.spec_file;
  Json spec_doc;
  VERDI_RETURN_IF_ERROR(ReadJsonFile(o.spec_file, &spec_doc));

  HysdsIo io;
  Json io_doc;
  if (!o.io_file.empty()) {
    r.io_file = o.io_file;
    VERDI_RETURN_IF_ERROR(ReadJsonFile(o.io_file, &io_doc));
    VERDI_RETURN_IF_ERROR(ParseHysdsIo(JsonField(&io_doc, "hysds-io"), &io).WithPrefix(o.io_file));
  }
  if (!o.params_file.empty())
    VERDI_RETURN_IF_ERROR(ReadParams(o.params_file, &r.params, &r.params_file));
  if (!o.dataset_file.empty()) {
    r.dataset_file = o.dataset_file;
    r.dataset.emplace();
    VERDI_RETURN_IF_ERROR(ReadJsonFile(o.dataset_file, &*r.dataset));
    if (!r.dataset->is_object() && !r.dataset->is_array())
      return Status::Invalid(
          fmt::format("{}: expected a dataset document (an object) or a list of them, got {}",
                      o.dataset_file, DescribeJson(*r.dataset)));
  }
  r.as_rule = o.as_rule || !o.dataset_file.empty();
  if (r.as_rule) r.run_lambda = RunPythonLambda;
  for (const std::string& param : o.params) {
    size_t eq = param.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::Invalid(fmt::format("--param {}: expected NAME=VALUE", param));
    r.param_strings.emplace_back(param.substr(0, eq), param.substr(eq + 1));
  }

  r.type = o.type.empty() ? DefaultJobType(o.spec_file) : o.type;
  if (r.type.empty())
    return Status::Invalid(fmt::format(
        "--type: required: {} is not named job-spec.json.NAME, so no default type", o.spec_file));
  r.name = o.name;
  r.queue = o.queue;
  r.priority = o.priority;
  if (!o.tag.empty()) r.tag = o.tag;
  const char* user = std::getenv("USER");
  if (!o.username.empty())
    r.username = o.username;
  else if (user != nullptr && *user != '\0')
    r.username = user;
  if (!o.disk_usage.empty()) r.disk_usage = o.disk_usage;
  r.soft_time_limit = o.soft_time_limit;
  r.time_limit = o.time_limit;
  r.hard_time_limit_gap = o.hard_time_limit_gap;
  if (o.no_dedup) r.dedup = false;
  if (!o.container_image.empty()) r.container_image_name = o.container_image;
  if (!o.container_image_url.empty()) r.container_image_url = o.container_image_url;
  r.task_id = o.task_id.empty() ? NewUuid4() : o.task_id;

  WallClock::time_point now = WallClock::now();
  if (!o.now.empty() && !ParseIsoTime(o.now, &now))
    return Status::Invalid(fmt::format(
        "--now: expected an ISO-8601 time such as 2024-01-01T00:00:00Z, got \"{}\"", o.now));

  std::vector<std::string> notes;
  VERDI_RETURN_IF_ERROR(
      ResolveJob(spec_doc, o.io_file.empty() ? nullptr : &io, r, now, job, &notes));
  for (const std::string& note : notes) fmt::print(stderr, "verdi submit: note: {}\n", note);
  return Status::OK();
}

std::optional<double> LimitOf(const Json& job, const char* key) {
  const Json* v = FindPath(job, {"job_info", key});
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

// Declares the queue as a Python client does and publishes the task to the
// default exchange with routing key = queue.
Status Publish(const SubmitOptions& o, const Json& job) {
  Serializer serializer;
  VERDI_RETURN_IF_ERROR(ParseSerializer(o.task_serializer, "--task-serializer", &serializer));
  AmqpUrl url;
  VERDI_RETURN_IF_ERROR(ParseAmqpUrl(o.broker.Url(), &url));
  AmqpLink link;
  VERDI_RETURN_IF_ERROR(link.Connect(url, o.broker.Tls()));
  const std::string& queue = job["job_info"]["job_queue"].get_ref<const std::string&>();
  QueueSpec spec{queue, Json::object()};
  if (o.max_priority > 0) spec.arguments["x-max-priority"] = o.max_priority;
  bool passive = false;
  VERDI_RETURN_IF_ERROR(link.DeclareQueue(spec, &passive));

  TaskMessage task;
  task.id = job["task_id"].get<std::string>();
  task.task = kRunJobTaskName;
  task.args = Json::array({job});
  task.kwargs = Json::object();
  task.hard_time_limit = LimitOf(job, "time_limit");
  task.soft_time_limit = LimitOf(job, "soft_time_limit");
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  task.origin = fmt::format("gen{}@{}", getpid(), host);
  AmqpOutgoing message = EncodeTaskMessage(task, serializer);
  message.priority = static_cast<uint8_t>(job["priority"].get<int64_t>());
  VERDI_RETURN_IF_ERROR(link.Publish("", queue, message));
  link.Close();  // waits for the broker, which has then taken the message
  return Status::OK();
}

// "Type: message" of a FAILURE result ({"exc_type", "exc_message": [msg],
// "exc_module"}), or the result as JSON when it has another shape.
std::string ExceptionText(const Json& result) {
  if (!result.is_object() || !result.contains("exc_message")) return result.dump();
  Json message = result["exc_message"];
  if (message.is_array() && message.size() == 1) message = message[0];
  std::string text = message.is_string() ? message.get<std::string>() : message.dump();
  const Json& type = result.contains("exc_type") ? result["exc_type"] : Json();
  return type.is_string() ? type.get<std::string>() + ": " + text : text;
}

// Polls the result backend until the task is ready or --wait SECONDS passed.
int WaitForResult(const SubmitOptions& o, ResultBackend* backend,
                  const std::vector<Serializer>& accept, const std::string& task_id) {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> deadline;
  if (!o.wait.empty() && !o.wait[0].empty())
    deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(std::min(std::stod(o.wait[0]), 1e9)));
  for (;;) {
    std::string text;
    bool found = false;
    if (Status st = backend->Get(task_id, &text, &found); !st.ok()) {
      fmt::print(stderr, "verdi submit: --result-backend: {}\n", st.message());
      return kUnreachableExit;
    }
    Json doc;
    if (found) {
      if (Status st = DecodeResult(text, accept, &doc); !st.ok()) {
        fmt::print(stderr, "verdi submit: task {}: {}\n", task_id, st.message());
        return kUnreachableExit;
      }
    }
    std::string state = ResultState(doc);
    if (state == "SUCCESS" || state == "FAILURE" || state == "REVOKED") {
      fmt::print("{}\n", DumpJsonFile(doc["result"]));
      if (state == "SUCCESS") return 0;
      fmt::print(stderr, "verdi submit: task {} {}: {}\n", task_id, state,
                 ExceptionText(doc["result"]));
      return kFailedExit;
    }
    if (deadline && Clock::now() >= *deadline) {
      fmt::print(stderr, "verdi submit: task {}: no result after {} s (state {})\n", task_id,
                 o.wait[0], state.empty() ? "PENDING" : state);
      return kTimeoutExit;
    }
    auto pause = std::chrono::milliseconds(100);
    if (deadline)
      pause = std::min(
          pause, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()) +
                     std::chrono::milliseconds(1));
    std::this_thread::sleep_for(pause);
  }
}

int RunSubmit(const SubmitOptions& o) {
  Json job;
  if (Status st = BuildJob(o, &job); !st.ok()) {
    fmt::print(stderr, "verdi submit: {}\n", st.message());
    return kInvalidExit;
  }
  if (o.dry_run) {
    fmt::print("{}\n", DumpJsonFile(job));
    return 0;
  }

  std::unique_ptr<ResultBackend> backend;
  std::vector<Serializer> accept;
  if (o.waiting) {
    if (Status st =
            ParseSerializerList(o.result_accept_content, "--result-accept-content", &accept);
        !st.ok()) {
      fmt::print(stderr, "verdi submit: {}\n", st.message());
      return kInvalidExit;
    }
    if (o.result_backend.empty()) {
      fmt::print(stderr,
                 "verdi submit: --wait needs --result-backend (or CELERY_RESULT_BACKEND)\n");
      return kInvalidExit;
    }
    RedisResultBackendOptions options;
    options.max_attempts = 3;
    options.max_backoff = std::chrono::milliseconds(1000);
    options.timeout = std::chrono::milliseconds(3000);
    if (Status st = MakeRedisResultBackend(o.result_backend, options, &backend); !st.ok()) {
      fmt::print(stderr, "verdi submit: --result-backend: {}\n", st.message());
      return kInvalidExit;
    }
  }
  if (Status st = Publish(o, job); !st.ok()) {
    fmt::print(stderr, "verdi submit: {}\n", st.message());
    return st.IsInvalid() ? kInvalidExit : kUnreachableExit;
  }
  std::string task_id = job["task_id"].get<std::string>();
  if (!o.waiting) {
    fmt::print("{}\n", task_id);
    return 0;
  }
  return WaitForResult(o, backend.get(), accept, task_id);
}

}  // namespace

void AddSubmitCommand(CLI::App* app, int* exit_code) {
  auto o = std::make_shared<SubmitOptions>();
  CLI::App* cmd = app->add_subcommand(
      "submit",
      "Resolve a job-spec and params into a run_job job, as HySDS's resolver and orchestrator\n"
      "do, and publish it as a Celery task (hysds.job_worker.run_job, protocol v2) to QUEUE.\n"
      "Params, in job-spec order: --param, else --params, else the hysds-io's value, else its\n"
      "default (type-converted), else skipped when optional, else an error. Lambdas are not run.\n"
      "Prints the task id (--wait: the task's result as JSON).\n"
      "Exit code: 0 published (--wait: SUCCESS); 1 FAILURE or REVOKED; 2 the submission cannot\n"
      "be resolved (one message naming the file, the param and the problem; nothing is sent);\n"
      "3 --wait ran out; 4 the broker or the result backend failed.");
  cmd->add_option("JOBSPEC", o->spec_file, "The job-spec file (job-spec.json.NAME)")->required();
  cmd->add_option("--hysds-io", o->io_file, "The hysds-io file: fixed values, defaults, optional");
  cmd->add_option("--params", o->params_file,
                  "A JSON object of param values, used as given (- for stdin)");
  cmd->add_flag("--as-rule", o->as_rule,
                "Resolve as a trigger rule or a Tosca/Figaro submission does: every hysds-io "
                "param by its `from`, values converted by type, lambdas run with python3 "
                "(default: as Mozart's REST submission)");
  cmd->add_option("--dataset", o->dataset_file,
                  "A dataset document (a GRQ hit: {_id, _source}) for the dataset_jpath: params; "
                  "a list of them gives each such param the list of its values (implies "
                  "--as-rule)");
  cmd->add_option("--param", o->params, "NAME=VALUE, a string value over --params (repeatable)");
  cmd->add_option(
      "--type", o->type,
      "The job type, job-NAME:VERSION (default: job-NAME:latest for job-spec.json.NAME)");
  cmd->add_option("--name", o->name, "Base of the job id (default: the type, ':' as '__')");
  cmd->add_option("--queue", o->queue,
                  "Queue (default: the job-spec's first recommended-queues entry, else celery)");
  cmd->add_option("--priority", o->priority, "Message and job priority")
      ->check(CLI::Range(0, 255))
      ->capture_default_str();
  cmd->add_option("--tag", o->tag, "The job's tag (also params.tag)");
  cmd->add_option("--username", o->username, "The job's username (default: $USER)");
  cmd->add_option("--soft-time-limit", o->soft_time_limit,
                  "Seconds (default: the job-spec's soft_time_limit)");
  cmd->add_option("--time-limit", o->time_limit, "Hard limit, seconds (default: the job-spec's)");
  cmd->add_option("--hard-time-limit-gap", o->hard_time_limit_gap,
                  "The hard limit is raised to soft + this when it is missing or not above")
      ->envname("HARD_TIME_LIMIT_GAP")
      ->capture_default_str();
  cmd->add_option("--disk-usage", o->disk_usage,
                  "Free disk the job needs, e.g. 10GB (default: the job-spec's)");
  cmd->add_flag("--no-dedup", o->no_dedup,
                "job_info.dedup = false (default: the hysds-io's enable_dedup, else true)");
  cmd->add_option("--container-image", o->container_image,
                  "Run the job in this image (container_image_name)");
  cmd->add_option("--container-image-url", o->container_image_url,
                  "Where the worker loads the image from (container_image_url)");
  cmd->add_flag("--dry-run", o->dry_run,
                "Print the run_job job as JSON and exit; no broker is contacted");
  AddBrokerFlags(cmd, &o->broker);
  cmd->add_option("--max-priority", o->max_priority,
                  "Declare the queue with x-max-priority N, as workers started with it do")
      ->check(CLI::Range(0, 255));
  cmd->add_option("--result-backend", o->result_backend,
                  "redis://[:password@]host:port/db or rediss://... (for --wait)")
      ->envname("CELERY_RESULT_BACKEND");
  cmd->add_option("--task-serializer", o->task_serializer,
                  "How the task message is written: json or msgpack (Celery's task_serializer)")
      ->capture_default_str();
  cmd->add_option("--result-accept-content", o->result_accept_content,
                  "Results --wait reads: json, msgpack, comma-separated (result_accept_content)")
      ->capture_default_str();
  cmd->add_option("--wait", o->wait,
                  "Wait for the result, at most SECONDS (none: no limit), and print it")
      ->expected(0, 1)
      ->type_name("[SECONDS]")
      ->check(CLI::Validator(
          [](const std::string& value) {
            char* end = nullptr;
            double seconds = std::strtod(value.c_str(), &end);
            bool ok = value.empty() || (*end == '\0' && std::isfinite(seconds) && seconds >= 0);
            return ok ? std::string() : "expected seconds, 0 or more, got \"" + value + "\"";
          },
          ""));
  cmd->add_option("--task-id", o->task_id,
                  "The Celery task id to use (default: a new UUID); for tests and scripting");
  cmd->add_option("--now", o->now,
                  "Submit as if at this UTC time (ISO-8601; job_id, time_queued); for tests");
  cmd->callback([o, cmd, exit_code] {
    o->waiting = cmd->count("--wait") > 0;
    *exit_code = RunSubmit(*o);
  });
}

}  // namespace verdi
