// libFuzzer target for the Celery task-message decoder (tests/fuzz/run_fuzz.sh
// builds and runs it).
//
// Input: one flag byte, then (flag 8) a JSON headers table up to a NUL byte,
// then the body. Flags: bits 0-1 pick the content type (json, msgpack, yaml,
// none); 4 compresses the body with zlib and says so; 32 claims compression
// of an uncompressed body; 8 reads the headers from the input; 16 sends no
// headers (protocol v1); otherwise the headers are {task, id}.
//
// Checked: decoding never crashes and fails only with Invalid; whatever a
// JSON body decodes to re-encodes into a message that decodes to the same
// request; the request's result document, in msgpack (and, for JSON bodies,
// in json), decodes back with its state.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "jobspec/context.h"
#include "jobspec/job.h"
#include "jobspec/worker_config.h"
#include "verdi/celery/result_document.h"
#include "verdi/celery/task_message.h"

namespace {

void Check(bool ok, const char* what, const verdi::Status& st = verdi::Status::OK()) {
  if (ok) return;
  std::fprintf(stderr, "check failed: %s %s\n", what, st.message().c_str());
  std::abort();
}

std::string Compress(std::string_view data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  if (compress(reinterpret_cast<Bytef*>(out.data()), &size,
               reinterpret_cast<const Bytef*>(data.data()), data.size()) != Z_OK)
    std::abort();
  out.resize(size);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using verdi::Json;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  verdi::Delivery d;
  static const char* const kTypes[] = {"application/json", "application/x-msgpack",
                                       "application/x-yaml", ""};
  d.content_type = kTypes[flags & 3];
  if (flags & 8) {
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return 0;
    Json headers = Json::parse(rest.substr(0, nul), nullptr, /*allow_exceptions=*/false);
    if (!headers.is_discarded()) d.headers = std::move(headers);
    rest.remove_prefix(nul + 1);
  } else if (!(flags & 16)) {
    d.headers = {{"task", "t.fuzz"}, {"id", "fuzz-id"}};
  }
  d.body = std::string(rest);
  if ((flags & (4 | 32)) && (d.headers.is_object() || d.headers.is_null())) {
    if (flags & 4) d.body = Compress(d.body);
    d.headers["compression"] = (flags & 4) ? "application/x-gzip" : "zlib";
  }

  verdi::DecodeLimits limits;
  limits.max_body_bytes = 1 << 20;
  verdi::TaskMessage m;
  verdi::Status st = verdi::DecodeTaskMessage(d, limits, &m);
  Check(st.ok() || st.IsInvalid(), "decode fails only with Invalid:", st);
  if (!st.ok()) return 0;

  // The job parser sees what the decoder lets through: args[0] of run_job.
  if (m.args.is_array() && !m.args.empty()) {
    verdi::Job job;
    verdi::Status parsed = verdi::ParseJob(m.args[0], &job);
    Check(parsed.ok() || parsed.IsInvalid(), "job parsing fails only with Invalid:", parsed);
    verdi::WorkerConfig config;
    std::vector<std::string> argv;
    if (parsed.ok() && verdi::WorkerConfigFromJob(job, &config).ok()) {
      verdi::Status resolved =
          verdi::ResolveArgv(config.configs[0].command, job.doc["params"], &argv);
      Check(resolved.ok() || resolved.IsInvalid(), "argv fails only with Invalid:", resolved);
      (void)verdi::ComposeContext(job.doc);
    }
  }

  verdi::AmqpOutgoing out = verdi::EncodeTaskMessage(m);
  (void)verdi::EncodeTaskMessage(m, verdi::Serializer::kMsgpack);
  auto result_reads_back = [&](verdi::Serializer serializer) {
    std::string doc = verdi::EncodeResult(serializer, m.id, "SUCCESS", m.args, nullptr, &m,
                                          verdi::WallClock::now());
    verdi::Json read;
    verdi::Status rs = verdi::DecodeResult(doc, {serializer}, &read);
    Check(rs.ok(), "the result document decodes:", rs);
    Check(verdi::ResultState(read) == "SUCCESS", "the result's state survives");
  };
  result_reads_back(verdi::Serializer::kMsgpack);
  if ((flags & 3) != 0) return 0;  // msgpack strings need not be UTF-8 nor free of kombu markers
  result_reads_back(verdi::Serializer::kJson);

  verdi::Delivery again;
  again.content_type = out.content_type;
  again.headers = out.headers;
  again.body = out.body;
  again.correlation_id = out.correlation_id;
  again.reply_to = out.reply_to;
  verdi::TaskMessage back;
  verdi::DecodeLimits unlimited;
  unlimited.max_body_bytes = std::numeric_limits<size_t>::max();
  st = verdi::DecodeTaskMessage(again, unlimited, &back);
  Check(st.ok(), "the re-encoded message decodes:", st);
  Check(back.task == m.task && back.id == m.id, "task and id survive");
  Check(back.args == m.args && back.kwargs == m.kwargs, "args and kwargs survive");
  Check(back.eta == m.eta && back.expires == m.expires, "eta and expires survive");
  Check(back.hard_time_limit == m.hard_time_limit && back.soft_time_limit == m.soft_time_limit,
        "time limits survive");
  Check(back.retries == m.retries &&
            back.ignore_result.value_or(false) == m.ignore_result.value_or(false),
        "retries and ignore_result survive");
  Check(back.group_id == m.group_id && back.parent_id == m.parent_id && back.origin == m.origin &&
            back.shadow == m.shadow,
        "ids survive");
  return 0;
}
