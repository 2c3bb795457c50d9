// Queues N `hysds.job_worker.run_job` tasks for the benchmarks, fast (or at
// a fixed rate), through verdi's own AMQP link and Celery encoder, so the
// publisher is never what a benchmark measures. verdi runs the jobs; the
// Python reference worker (bench/celery_noop.py) registers a no-op task of
// the same name, so both drain byte-identical messages. With --task NAME
// (e.g. verdi.noop) the messages call that task with no arguments instead.
//
// usage: bench_publish --broker URL --queue Q --count N [--rate R]
//          [--prefix P] [--command CMD] [--task NAME] [--times FILE]
// Prints {"published": N, "seconds": S} on stdout. With --times, writes
// "<task id>\t<POSIX seconds>" per message, taken just before its publish.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/timestamp.h"
#include "verdi/amqp/link.h"
#include "verdi/amqp/url.h"
#include "verdi/celery/task_message.h"

namespace {

struct Options {
  std::string broker, queue, prefix = "bench", command = "/bin/true", times_file;
  std::string task = verdi::kRunJobTaskName;
  long count = 0;
  double rate = 0;  // messages per second; 0: as fast as the broker takes them
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (arg == "--broker")
      o->broker = value;
    else if (arg == "--queue")
      o->queue = value;
    else if (arg == "--count")
      o->count = std::atol(value.c_str());
    else if (arg == "--rate")
      o->rate = std::atof(value.c_str());
    else if (arg == "--prefix")
      o->prefix = value;
    else if (arg == "--command")
      o->command = value;
    else if (arg == "--task")
      o->task = value;
    else if (arg == "--times")
      o->times_file = value;
    else
      return false;
  }
  return !o->broker.empty() && !o->queue.empty() && o->count > 0 && o->rate >= 0;
}

// What `verdi submit` would queue for a job whose command is o.command (no
// inputs, no container, no datasets), kept small and the same for every run.
verdi::TaskMessage MakeTask(const Options& o, long i, verdi::WallClock::time_point now) {
  std::string id = fmt::format("{}-{:07d}", o.prefix, i);
  verdi::TaskMessage task;
  task.id = id;
  task.task = o.task;
  task.origin = "bench_publish";
  if (o.task != verdi::kRunJobTaskName) return task;
  verdi::Json job = {
      {"job_id", "job-" + id},
      {"task_id", id},
      {"type", "job-bench:latest"},
      {"priority", 0},
      {"context", verdi::Json::object()},
      {"localize_urls", verdi::Json::array()},
      {"params", {{"_command", o.command}}},
      {"job_info",
       {{"id", "job-" + id}, {"job_queue", o.queue}, {"time_queued", verdi::IsoUtc(now)}}},
  };
  task.args = verdi::Json::array({job});
  return task;
}

double PosixSeconds(verdi::WallClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: bench_publish --broker URL --queue Q --count N [--rate R] [--prefix P] "
                 "[--command CMD] [--task NAME] [--times FILE]\n");
    return 2;
  }
  verdi::AmqpUrl url;
  verdi::AmqpLink link;
  bool passive = false;
  verdi::Status st = verdi::ParseAmqpUrl(o.broker, &url);
  if (st.ok()) st = link.Connect(url);
  if (st.ok()) st = link.DeclareQueue(verdi::QueueSpec{o.queue, verdi::Json::object()}, &passive);
  if (!st.ok()) {
    std::fprintf(stderr, "bench_publish: %s\n", st.message().c_str());
    return 1;
  }
  FILE* times = nullptr;
  if (!o.times_file.empty() && (times = std::fopen(o.times_file.c_str(), "w")) == nullptr) {
    std::fprintf(stderr, "bench_publish: %s: %s\n", o.times_file.c_str(), std::strerror(errno));
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < o.count; ++i) {
    if (o.rate > 0) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::duration<double>(i / o.rate)));
    }
    auto now = verdi::WallClock::now();
    verdi::TaskMessage task = MakeTask(o, i, now);
    if (times != nullptr) std::fprintf(times, "%s\t%.6f\n", task.id.c_str(), PosixSeconds(now));
    st = link.Publish("", o.queue, verdi::EncodeTaskMessage(task));
    if (!st.ok()) {
      std::fprintf(stderr, "bench_publish: message %ld: %s\n", i, st.message().c_str());
      return 1;
    }
    if (i % 1000 == 999) {  // heartbeats, and a channel error the broker sent
      verdi::AmqpDelivery unused;
      bool got = false;
      st = link.Poll(std::chrono::milliseconds(0), &unused, &got);
      if (!st.ok()) {
        std::fprintf(stderr, "bench_publish: after message %ld: %s\n", i, st.message().c_str());
        return 1;
      }
    }
  }
  // A fast publisher is throttled by the broker (credit flow), so the last
  // messages may still be in the socket; Close gives up after 2 s and would
  // lose them. basic.qos is a round trip on the publishing channel: its
  // reply comes after the broker has handled every message before it.
  st = link.SetPrefetch(0);
  if (!st.ok()) {
    std::fprintf(stderr, "bench_publish: waiting for the broker: %s\n", st.message().c_str());
    return 1;
  }
  link.Close();
  if (times != nullptr) std::fclose(times);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"published\": %ld, \"seconds\": %.3f}\n", o.count, seconds);
  return 0;
}
