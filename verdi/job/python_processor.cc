#include "verdi/job/python_processor.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/files.h"
#include "base/redact.h"
#include "jobspec/uuid.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace fs = std::filesystem;

namespace {

// The driver, run as `python -c DRIVER NAME JOB_DIR` with {"job", "context"}
// on stdin. Its one answer, a JSON object on the original stdout, is one of
//   {"returned": bool, "repr": str, "job": ..., "context": ...}
//   {"raised": EXC, "job": ..., "context": ...}
//   {"not_imported": EXC}
//   {"unserializable": str}
// with EXC = {"type", "message", "traceback"}. Before anything is imported,
// the cwd (the scratch dir) and whatever lies in the job dir leave sys.path,
// so that nothing a job left can stand in for a module. Kept to Python 3.6.
constexpr const char* kDriver = R"py(
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
import os
_inside = os.path.realpath(sys.argv[2]) + os.sep
sys.path[:] = [p for p in sys.path if not (os.path.realpath(p) + os.sep).startswith(_inside)]
import importlib, json, traceback

def describe(e):
    return {"type": type(e).__name__, "message": str(e) or repr(e),
            "traceback": traceback.format_exc()}

def main():
    answer_file = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what the function prints goes to stderr, never into the answer
    name, job_dir = sys.argv[1], sys.argv[2]
    given = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    job, context = given["job"], given["context"]
    os.chdir(job_dir)

    def answer(doc):
        try:
            text = json.dumps(doc, allow_nan=False)
        except (TypeError, ValueError) as e:
            text = json.dumps({"unserializable": str(e)})
        answer_file.write(text)
        answer_file.flush()

    try:
        if "." in name:
            module_name, func_name = name.rsplit(".", 1)
            func = getattr(importlib.import_module(module_name), func_name)
        else:
            func = eval(name)
    except BaseException as e:
        answer({"not_imported": describe(e)})
        return
    try:
        value = func(job, context)
        proceed = bool(value)
    except BaseException as e:
        answer({"raised": describe(e), "job": job, "context": context})
        return
    try:
        shown = repr(value)[:200]
    except BaseException:
        shown = "?"
    answer({"returned": proceed, "repr": shown, "job": job, "context": context})

main()
)py";

constexpr size_t kMaxOutputTail = 64 << 10;

// The last `limit` bytes of the regular file `path` (no link followed, no
// FIFO blocked on); empty when it cannot be read.
std::string ReadTail(const fs::path& path, size_t limit) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t size = st.st_size;
    off_t from = size > static_cast<off_t>(limit) ? size - static_cast<off_t>(limit) : 0;
    out.resize(static_cast<size_t>(size - from));
    ssize_t got = pread(fd, out.data(), out.size(), from);
    out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  close(fd);
  return out;
}

// The job and the context, in memory only, as the child's stdin.
Status InputFd(const Json& job, const Json& context, int* fd) {
  std::string text = Json{{"job", job}, {"context", context}}.dump();
  *fd = memfd_create("verdi-processor-input", MFD_CLOEXEC);
  if (*fd < 0) return Status::IOError("memfd_create", errno);
  for (size_t off = 0; off < text.size();) {
    ssize_t n = write(*fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("writing the processor's input", errno);
    off += static_cast<size_t>(n);
  }
  if (lseek(*fd, 0, SEEK_SET) != 0) return Status::IOError("lseek", errno);
  return Status::OK();
}

void ReadException(const Json& exc, PythonProcessorCall* call) {
  call->exception = exc.value("type", "");
  call->error = exc.value("message", "");
  call->traceback = exc.value("traceback", "");
}

// Reads the driver's answer into `call`.
Status ReadAnswer(const std::string& text, const std::string& who, PythonProcessorCall* call) {
  Json answer;
  Status st = ParseJsonText(text, "the answer", &answer);
  if (!st.ok() || !answer.is_object())
    return Status::Failed(fmt::format("{}: unreadable answer from the Python driver: {}", who,
                                      st.ok() ? "not a JSON object" : st.message()));
  auto object_or_none = [&answer](const char* key) -> std::optional<Json> {
    auto it = answer.find(key);
    if (it == answer.end()) return std::nullopt;
    return *it;
  };
  if (auto it = answer.find("unserializable"); it != answer.end())
    return Status::Failed(
        fmt::format("{}: left a value in the job or the context that JSON cannot hold: {}", who,
                    it->is_string() ? it->get<std::string>() : it->dump()));
  if (auto it = answer.find("not_imported"); it != answer.end() && it->is_object()) {
    call->kind = PythonProcessorCall::Kind::kRaised;
    ReadException(*it, call);
    call->error =
        fmt::format("{} could not be imported: {}: {}", who, call->exception, call->error);
    return Status::OK();
  }
  call->job = object_or_none("job");
  call->context = object_or_none("context");
  if (auto it = answer.find("raised"); it != answer.end() && it->is_object()) {
    call->kind = PythonProcessorCall::Kind::kRaised;
    ReadException(*it, call);
    return Status::OK();
  }
  if (auto it = answer.find("returned"); it != answer.end() && it->is_boolean()) {
    call->kind = PythonProcessorCall::Kind::kReturned;
    call->proceed = it->get<bool>();
    call->result = answer.value("repr", "");
    return Status::OK();
  }
  return Status::Failed(who +
                        ": unreadable answer from the Python driver: " + DescribeJson(answer));
}

}  // namespace

Status CallPythonProcessor(const PythonProcessorRequest& request, const Json& job,
                           const Json& context, Interrupts* interrupts, PythonProcessorCall* call) {
  *call = PythonProcessorCall();
  const std::string who = request.label + " " + request.name;
  fs::path scratch = request.job_dir / (".processor-" + NewUuid4());
  std::error_code ec;
  if (!fs::create_directory(scratch, ec) || ec)
    return Status::IOError(who + ": creating " + scratch.string(), ec ? ec.value() : EEXIST);
  int input_fd = -1;
  Status st = InputFd(job, context, &input_fd);
  RunResult result;
  if (st.ok()) {
    RunRequest run;
    run.argv = {request.python, "-c", kDriver, request.name, request.job_dir.string()};
    run.env = request.env;
    run.dir = scratch;
    run.stdin_fd = input_fd;
    run.soft_deadline = request.soft_deadline;
    run.hard_deadline = request.hard_deadline;
    run.kill_grace = request.kill_grace;
    st = RunSupervised(run, interrupts, &result);
  }
  if (input_fd >= 0) close(input_fd);
  std::optional<std::string> answer;
  if (st.ok()) {
    call->output = ReadTail(scratch / "_stderr.txt", kMaxOutputTail);
    answer = ReadSmallFile(scratch / "_stdout.txt", kMaxPythonReplyBytes + 1);
  }
  fs::remove_all(scratch, ec);
  if (!st.ok()) return st.WithPrefix(who);

  switch (result.ending) {
    case Ending::kNotStarted:
      return Status::Failed(
          fmt::format("{}: {} (HySDS imports it into the worker; verdi runs "
                      "it with {})",
                      who, result.error, request.python));
    case Ending::kSoftLimit:
    case Ending::kHardLimit:
    case Ending::kInterrupted:
      call->kind = PythonProcessorCall::Kind::kStopped;
      call->run = result;
      return Status::OK();
    case Ending::kExited:
      break;
  }
  if (answer && answer->size() > kMaxPythonReplyBytes)
    return Status::Failed(
        fmt::format("{}: its answer (the job and the context) is larger than {} MiB", who,
                    kMaxPythonReplyBytes >> 20));
  if (!answer || answer->empty()) {
    std::string output = call->output;
    if (output.size() > 2000) output = "..." + output.substr(output.size() - 2000);
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return Status::Failed(fmt::format("{}: {} exited with code {} without an answer{}", who,
                                      request.python, result.exit_code,
                                      output.empty() ? "" : "; its output: " + RedactUrls(output)));
  }
  return ReadAnswer(*answer, who, call);
}

}  // namespace verdi
