// `verdi monitor`: a refreshing terminal view of a farm of workers, from the
// Celery events on the `celeryev` exchange and, optionally, the
// hysds-job-status-* keys in Redis (read only: never the status list).

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "base/redact.h"
#include "jobspec/uuid.h"
#include "redis/redis_client.h"
#include "redis/redis_url.h"
#include "verdi/amqp/link.h"
#include "verdi/celery/task_message.h"
#include "verdi/cli/broker_flags.h"
#include "verdi/cli/commands.h"
#include "verdi/monitor/state.h"
#include "verdi/process/interrupts.h"

namespace verdi {
namespace {

struct MonitorOptions {
  BrokerFlags broker;
  std::string redis_job_status_url;
  double interval = 2.0;
  double listen = 3.0;
  bool once = false;
  bool json = false;
};

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Counts the values of the hysds-job-status-* keys: SCAN + MGET only.
Status ReadJobStatusCounts(const std::string& url_text, std::map<std::string, int64_t>* counts) {
  RedisUrl url;
  VERDI_RETURN_IF_ERROR(ParseRedisUrl(url_text, &url));
  RedisClient client;
  VERDI_RETURN_IF_ERROR(client.Connect(url, RedisTls(), std::chrono::milliseconds(5000)));
  counts->clear();
  std::string cursor = "0";
  do {
    RedisReply reply;
    VERDI_RETURN_IF_ERROR(
        client.Command({"SCAN", cursor, "MATCH", "hysds-job-status-*", "COUNT", "1000"}, &reply));
    if (reply.type == RedisReply::Type::kError) return Status::Failed("SCAN: " + reply.str);
    if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2) {
      return Status::Failed("SCAN: unexpected reply");
    }
    cursor = reply.elements[0].str;
    std::vector<std::string> mget = {"MGET"};
    for (const RedisReply& key : reply.elements[1].elements) mget.push_back(key.str);
    if (mget.size() > 1) {
      RedisReply values;
      VERDI_RETURN_IF_ERROR(client.Command(mget, &values));
      if (values.type == RedisReply::Type::kError) return Status::Failed("MGET: " + values.str);
      for (const RedisReply& v : values.elements) {
        if (v.type == RedisReply::Type::kString) ++(*counts)[v.str];
      }
    }
  } while (cursor != "0");
  return Status::OK();
}

// Connects, declares the receiver's own queue as Celery's receivers do and
// consumes it without acks.
Status Subscribe(const MonitorOptions& o, const AmqpUrl& url, AmqpLink* link) {
  AmqpTls tls = o.broker.Tls();
  VERDI_RETURN_IF_ERROR(link->Connect(url, tls));
  VERDI_RETURN_IF_ERROR(link->DeclareExchange("celeryev", "topic", true, false));
  std::string queue = "celeryev." + NewUuid4();
  Json arguments = {{"x-message-ttl", 5000}, {"x-expires", 60000}};
  VERDI_RETURN_IF_ERROR(link->DeclareBoundQueue(queue, "celeryev", "#", /*durable=*/false,
                                                /*exclusive=*/true, /*auto_delete=*/true,
                                                arguments));
  std::string tag;
  return link->Consume(queue, &tag, /*no_ack=*/true);
}

void Show(const MonitorOptions& o, MonitorState* state, bool clear) {
  if (!o.redis_job_status_url.empty()) {
    std::map<std::string, int64_t> counts;
    Status st = ReadJobStatusCounts(o.redis_job_status_url, &counts);
    if (st.ok()) {
      state->SetJobStatusCounts(std::move(counts));
    } else {
      fmt::print(stderr, "verdi monitor: --redis-job-status-url {}: {}\n",
                 RedactUrls(o.redis_job_status_url), st.message());
    }
  }
  double now = WallNow();
  if (o.json) {
    fmt::print("{}\n", state->ToJson(now).dump());
  } else {
    if (clear) fmt::print("\033[H\033[2J");
    fmt::print("{}", state->RenderText(now));
  }
  fflush(stdout);
}

int RunMonitor(const MonitorOptions& o) {
  AmqpUrl url;
  if (Status st = ParseAmqpUrl(o.broker.Url(), &url); !st.ok()) {
    fmt::print(stderr, "verdi monitor: --broker: {}\n", st.message());
    return 2;
  }
  SignalInterrupts signals;
  AmqpLink link;
  if (Status st = Subscribe(o, url, &link); !st.ok()) {
    fmt::print(stderr, "verdi monitor: {}\n", st.message());
    return 1;
  }
  MonitorState state;
  using Clock = std::chrono::steady_clock;
  auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const auto start = Clock::now();
  auto next_draw = o.once ? start + seconds(o.listen) : start;
  DecodeLimits limits;
  limits.max_body_bytes = 16 << 20;
  while (true) {
    if (signals.Take() != 0) break;
    auto now = Clock::now();
    if (now >= next_draw) {
      Show(o, &state, /*clear=*/!o.once);
      if (o.once) return 0;
      next_draw = now + seconds(o.interval);
    }
    if (!link.connected()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (Status st = Subscribe(o, url, &link); !st.ok()) {
        std::this_thread::sleep_for(std::chrono::seconds(2));
      }
      continue;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_draw - Clock::now());
    wait = std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(200));
    AmqpDelivery delivery;
    bool got = false;
    if (Status st = link.Poll(wait, &delivery, &got); !st.ok()) {
      fmt::print(stderr, "verdi monitor: {}\n", st.message());
      if (o.once) return 1;
      continue;  // reconnects above
    }
    if (!got) continue;
    const Json* compression = nullptr;
    if (auto it = delivery.headers.find("compression"); it != delivery.headers.end()) {
      compression = &*it;
    }
    std::string content_type =
        delivery.content_type.empty() ? "application/json" : delivery.content_type;
    Json body;
    if (DecodeMessageBody(content_type, compression, delivery.body, limits, &body).ok()) {
      state.Feed(body, WallNow());
    }
  }
  link.Close();
  return 0;
}

}  // namespace

void AddMonitorCommand(CLI::App* app, int* exit_code) {
  auto o = std::make_shared<MonitorOptions>();
  CLI::App* cmd = app->add_subcommand(
      "monitor",
      "A terminal view of the workers, from Celery events (celeryev): workers online or offline\n"
      "(alive while now < last heartbeat + 2 x freq), their active jobs with elapsed time,\n"
      "processed and failed counts, the last failures with their short error; with\n"
      "--redis-job-status-url, the counts of the hysds-job-status-* keys (read with SCAN and\n"
      "MGET; the status list is never read). Only events sent after it starts are seen.\n"
      "Redraws every --interval until SIGINT/SIGTERM; --once listens --listen seconds,\n"
      "prints once and exits. Exit code: 0 done; 1 the broker failed; 2 bad usage.");
  AddBrokerFlags(cmd, &o->broker);
  cmd->add_option("--redis-job-status-url", o->redis_job_status_url,
                  "Redis of the HySDS job statuses: count the hysds-job-status-* keys")
      ->envname("REDIS_JOB_STATUS_URL");
  cmd->add_option("--interval", o->interval, "Seconds between redraws")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--once", o->once, "Listen --listen seconds, print once and exit");
  cmd->add_option("--listen", o->listen, "With --once: seconds to listen before printing")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON {workers, tasks, failures, job_statuses}");
  cmd->callback([o, exit_code] { *exit_code = RunMonitor(*o); });
}

}  // namespace verdi
