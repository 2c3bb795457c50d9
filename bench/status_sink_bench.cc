// Workload 5 of the benchmarks: N HySDS status documents through verdi's
// Redis status sink (events/status_sink), timed from the first document
// queued to the last one delivered.
//
// usage: status_sink_bench REDIS_URL [N [status|info]]
//   status: LogJobStatus, what the worker sends per status (SETEX + RPUSH);
//   info:   LogJobInfo, one RPUSH per document (what redis-benchmark's
//           RPUSH test does).
// Prints {"documents", "seconds", "per_second", "payload_bytes",
// "commands_per_document", "max_batch"}; payload_bytes is the msgpack size
// of one document, for redis-benchmark -d.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "base/timestamp.h"
#include "events/job_status_doc.h"
#include "events/msgpack_writer.h"
#include "events/status_sink.h"

namespace {

// A job as the worker reports it at completion: the payload bench_publish
// queues plus the job_info the pipeline adds.
verdi::Json FinishedJob(long i, verdi::WallClock::time_point now) {
  std::string id = fmt::format("bench-{:07d}", i);
  std::string t = verdi::IsoUtc(now);
  return {
      {"job_id", "job-" + id},
      {"task_id", id},
      {"type", "job-bench:latest"},
      {"priority", 0},
      {"tag", nullptr},
      {"username", "bench"},
      {"context", verdi::Json::object()},
      {"localize_urls", verdi::Json::array()},
      {"params", {{"_command", "/bin/true"}}},
      {"command", {{"path", "/bin/true"}, {"options", verdi::Json::array()}}},
      {"job_info",
       {{"id", "job-" + id},
        {"job_queue", "bench"},
        {"job_dir", "/data/work/jobs/2026/01/01/00/00/job-" + id},
        {"execute_node", "bench-host"},
        {"public_ip", "127.0.0.1"},
        {"job_url", "http://127.0.0.1:8085/jobs/2026/01/01/00/00/job-" + id},
        {"time_queued", t},
        {"time_start", t},
        {"cmd_start", t},
        {"cmd_end", t},
        {"cmd_duration", 0.001},
        {"time_end", t},
        {"duration", 0.004},
        {"status", 0},
        {"pid", 12345},
        {"metrics",
         {{"inputs_localized", verdi::Json::array()},
          {"products_staged", verdi::Json::array()},
          {"job_dir_size", 12288}}}}},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: status_sink_bench REDIS_URL [N [status|info]]\n");
    return 2;
  }
  long n = argc > 2 ? std::atol(argv[2]) : 100000;
  std::string mode = argc > 3 ? argv[3] : "status";
  if (n <= 0 || (mode != "status" && mode != "info")) {
    std::fprintf(stderr, "status_sink_bench: N must be > 0 and the mode status or info\n");
    return 2;
  }
  verdi::StatusSinkOptions options;
  options.status_url = argv[1];
  options.max_buffered = static_cast<size_t>(n);  // measure delivery, not refusals
  std::unique_ptr<verdi::StatusSink> sink;
  verdi::Status st = verdi::StatusSink::Make(options, &sink);
  if (!st.ok()) {
    std::fprintf(stderr, "status_sink_bench: %s\n", st.message().c_str());
    return 1;
  }
  // The documents are built before the clock starts: the sink is measured,
  // not the document builder.
  auto now = verdi::WallClock::now();
  std::vector<verdi::Json> docs;
  docs.reserve(static_cast<size_t>(n));
  for (long i = 0; i < n; ++i) {
    verdi::Json job = FinishedJob(i, now);
    docs.push_back(mode == "status" ? verdi::JobStatusDocument(job, "job-completed", "bench@host",
                                                               verdi::StatusDetails(), now)
                                    : verdi::JobInfoDocument(job, now));
  }
  size_t payload_bytes = verdi::PackMsgpack(docs[0]).size();
  int64_t ttl = verdi::StatusTtlSeconds(docs[0]["job"]);

  auto start = std::chrono::steady_clock::now();
  for (const verdi::Json& doc : docs) {
    bool queued = mode == "status" ? sink->LogJobStatus(doc, ttl) : sink->LogJobInfo(doc);
    if (!queued) {
      std::fprintf(stderr, "status_sink_bench: a document was refused\n");
      return 1;
    }
  }
  if (!sink->Flush(std::chrono::seconds(600))) {
    std::fprintf(stderr, "status_sink_bench: not delivered within 600 s\n");
    return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  verdi::StatusSinkStats stats = sink->stats();
  if (stats.delivered != static_cast<uint64_t>(n)) {
    std::fprintf(stderr, "status_sink_bench: %llu of %ld delivered\n",
                 static_cast<unsigned long long>(stats.delivered), n);
    return 1;
  }
  std::printf(
      "{\"documents\": %ld, \"seconds\": %.4f, \"per_second\": %.1f, \"payload_bytes\": %zu, "
      "\"commands_per_document\": %d, \"max_batch\": %zu}\n",
      n, seconds, n / seconds, payload_bytes, mode == "status" ? 2 : 1, options.max_batch);
  return 0;
}
