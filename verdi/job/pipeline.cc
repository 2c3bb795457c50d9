#include "verdi/job/pipeline.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dir_tree.h"
#include "base/files.h"
#include "base/log.h"
#include "base/redact.h"
#include "jobspec/context.h"
#include "jobspec/job_files.h"
#include "jobspec/job_status.h"
#include "jobspec/processors.h"
#include "jobspec/shell_words.h"
#include "jobspec/uuid.h"
#include "localize/cache.h"
#include "localize/checksum.h"
#include "localize/destination.h"
#include "localize/mark_datasets.h"
#include "localize/url.h"
#include "verdi/container/engine.h"
#include "verdi/job/container_step.h"
#include "verdi/job/host_facts.h"
#include "verdi/job/job_redaction.h"
#include "verdi/job/publish_step.h"
#include "verdi/job/python_processor.h"
#include "verdi/job/run_processors.h"
#include "verdi/job/run_script.h"
#include "verdi/process/supervisor.h"
#include "verdi/workdir/close_out.h"
#include "verdi/workdir/job_dir.h"
#include "verdi/workdir/job_dir_scan.h"

namespace verdi {
namespace {

constexpr const char* kDefaultRootWorkDir = "/data/work";
constexpr const char* kDefaultWebdavPort = "8085";

Status LoadWorkerConfig(const Job& job, const PipelineSettings& settings, WorkerConfig* config) {
  if (!settings.worker_config_file) return WorkerConfigFromJob(job, config);
  Json doc;
  VERDI_RETURN_IF_ERROR(ReadJsonFile(*settings.worker_config_file, &doc));
  return ParseWorkerConfig(doc, *settings.worker_config_file, config);
}

// The limit from job_info, else from the job-spec, else the worker's
// default; 0 means none.
std::optional<int64_t> Limit(std::optional<int64_t> from_job_info, std::optional<int64_t> from_spec,
                             std::optional<int64_t> worker_default) {
  std::optional<int64_t> limit = from_job_info ? from_job_info
                                 : from_spec   ? from_spec
                                               : worker_default;
  if (limit && *limit == 0) return std::nullopt;
  return limit;
}

// exec would cut an argument at a NUL while _run.sh recorded all of it.
Status CheckNoNul(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i)
    if (argv[i].find('\0') != std::string::npos)
      return Status::Invalid(
          fmt::format("job.params: argument {} of the command contains a NUL byte", i));
  return Status::OK();
}

// A Python processor with no deadline of the job still ahead is killed after this.
constexpr std::chrono::hours kProcessorTimeCap{24};

// job_info.status as HySDS's built-ins test it: anything but the integer 0
// is a failure.
bool ExitedZero(const Json& info) {
  auto it = info.find("status");
  return it != info.end() && it->is_number_integer() && it->get<int64_t>() == 0;
}

// One run of one prepared job. Each step returns a Status; the first that
// fails becomes the job's error, and close-out runs whatever happened.
class JobRun {
 public:
  JobRun(PreparedJob* prepared, const PipelineSettings& settings, Interrupts* interrupts)
      : p_(*prepared), job_(prepared->job.doc), settings_(settings), interrupts_(interrupts) {}

  JobOutcome Run() {
    start_ = settings_.machine->Now();
    steady_start_ = SteadyClock::now();
    shares_context_ = SharesContext(job_);
    for (const char* key : {"container_image_url", "container_image_urls", "dependency_images"})
      if (job_.contains(key)) images_[key] = job_[key];
    // Credentials in URLs never reach the job files or the statuses.
    unredacted_ = UnredactedFields(job_);
    RedactJob(&job_);
    const JobSpec* spec = p_.job.spec ? &*p_.job.spec : nullptr;
    soft_limit_ = Limit(p_.job.soft_time_limit, spec ? spec->soft_time_limit : std::nullopt,
                        settings_.default_soft_time_limit);
    hard_limit_ = Limit(p_.job.time_limit, spec ? spec->time_limit : std::nullopt,
                        settings_.default_time_limit);
    Status st = MakeRoom();
    if (st.ok()) st = CreateDirectory();
    if (st.ok()) st = WriteJobFiles();
    if (st.ok()) st = FindDuplicate();
    if (!outcome_.dedup_job.empty()) return EndDeduped();
    outcome_.started = st.ok();
    if (st.ok() && settings_.observer != nullptr) settings_.observer->Started(job_);
    if (st.ok()) st = PreProcess();
    if (st.ok()) st = RunCommand();
    // The job may have taken the way to its dir away too (`chmod 000 ..`).
    if (!dir_.empty()) RestoreOwnerAccessAbove(p_.root_work_dir, dir_);
    // A dir the job moved or removed is the reason, whatever else failed
    // because of it (the supervisor's files cannot be written in a removed
    // dir): the job's doing, never an infrastructure error.
    if (Status here = dir_.empty() ? Status::OK() : CheckWorkDirInPlace(); !here.ok()) st = here;
    if (st.ok()) st = ReadBackContext();
    if (!st.ok() && outcome_.error.empty()) {
      Fail(st.message());
      outcome_.traceback = traceback_;
      outcome_.infrastructure_error = st.IsIOError();
    }
    PostProcess();
    CloseOut();
    // After .done: a status that cannot be sent never keeps a job open (HC-374).
    if (settings_.observer != nullptr) settings_.observer->Finished(job_, outcome_);
    return outcome_;
  }

 private:
  const std::string& job_id() const { return p_.job.job_id; }
  Json& info() { return job_["job_info"]; }
  std::string InDir(const char* name) const { return (dir_ / name).string(); }

  void Fail(std::string error) {
    if (outcome_.status.empty()) outcome_.status = kJobFailed;
    outcome_.error = std::move(error);
  }

  Status MakeRoom() {
    std::error_code ec;
    fs::create_directories(p_.root_work_dir, ec);
    if (ec)
      return Status::IOError("creating the work root " + p_.root_work_dir.string(), ec.value());
    return EnsureFreeSpace(settings_.machine, p_.root_work_dir, p_.disk_usage_bytes,
                           settings_.scrub);
  }

  Status CreateDirectory() {
    fs::path dir;
    VERDI_RETURN_IF_ERROR(CreateJobDir(JobDirPath(p_.root_work_dir, start_, job_id()), start_,
                                       settings_.owner, &dir));
    dir_ = dir;
    outcome_.job_dir = dir;
    LogInfo("job {}: work dir {}", job_id(), dir.string());
    // Held to the end: the dir verdi made, wherever the job may move it.
    return JobDir::Open(dir_, &made_);
  }

  Status WriteJobFiles() {
    const HostFacts& facts = GetHostFacts();
    if (!job_.contains("job_info") || !job_["job_info"].is_object())
      job_["job_info"] = Json::object();
    job_["command"] = p_.command.ToJson();
    info()["job_dir"] = dir_.string();
    info()["metrics"] = {{"inputs_localized", Json::array()},
                         {"products_staged", Json::array()},
                         {"job_dir_size", 0},
                         {"usage_stats", Json::array()}};
    info()["facts"] = facts.ToJson();
    info()["execute_node"] = facts.execute_node;
    info()["public_ip"] = facts.public_ip;
    info()["job_url"] = p_.webdav_url + "/" + dir_.lexically_relative(p_.root_work_dir).string();
    info()["context_file"] = InDir("_context.json");
    info()["datasets_cfg_file"] =
        settings_.datasets_config_file ? Json(*settings_.datasets_config_file) : Json(nullptr);
    info()["time_start"] = IsoUtc(start_);

    context_ = ComposeContext(job_);
    argv_ = p_.argv;
    Status st =
        PrepareContainer(p_, settings_, dir_, images_, &job_, &context_, &argv_, &container_name_);
    // The dir is new and the command has not started: nobody reads these
    // before they are complete, and what a crash would leave half-written
    // here nobody reads either (recovery starts over from an unreadable
    // _job.json), so each is written once, without a temporary name.
    VERDI_RETURN_IF_ERROR(WriteNewFile(InDir("_context.json"), DumpJsonFile(context_)));
    VERDI_RETURN_IF_ERROR(WriteJobJson(/*first=*/true));
    VERDI_RETURN_IF_ERROR(st);
    return WriteNewFile(InDir("_run.sh"), RunScript(settings_.base_env, p_.command.env, argv_),
                        0755);
  }

  // The pre-processors (run_processors.h): HySDS's built-ins unless the
  // job-spec disables them, then its `pre`. One that does not signal
  // continuation keeps the command from running.
  Status PreProcess() {
    std::vector<std::string> names;
    VERDI_RETURN_IF_ERROR(ProcessorsOf(job_, ProcessorPhase::kPre, false, &names));
    VERDI_RETURN_IF_ERROR(RunProcessors(ProcessorPhase::kPre, names, job_id(),
                                        Hooks(ProcessorPhase::kPre), &run_command_));
    return python_ran_ ? RebuildCommand() : Status::OK();
  }

  // HySDS builds the command line after its pre-processors: the job's
  // params as a Python pre-processor left them make the argv (and the
  // container's, and _run.sh).
  Status RebuildCommand() {
    Json job = job_;  // params as given: ResolveArgv saw them so the first time
    RestoreUnredactedFields(unredacted_, &job);
    std::vector<std::string> argv;
    VERDI_RETURN_IF_ERROR(ResolveArgv(p_.command, job["params"], &argv));
    VERDI_RETURN_IF_ERROR(CheckNoNul(argv));
    if (argv == p_.argv) return Status::OK();
    LogInfo("job {}: the pre-processors changed the command's arguments", job_id());
    p_.argv = argv;
    argv_ = std::move(argv);
    VERDI_RETURN_IF_ERROR(
        PrepareContainer(p_, settings_, dir_, images_, &job_, &context_, &argv_, &container_name_));
    return WriteFileAtomic(InDir("_run.sh"), RunScript(settings_.base_env, p_.command.env, argv_),
                           0755);
  }

  ProcessorHooks Hooks(ProcessorPhase phase) {
    return {[this](BuiltinProcessor builtin) { return RunBuiltin(builtin); },
            [this, phase](const std::string& name, bool* proceed) {
              return CallPython(phase, name, proceed);
            }};
  }

  Status RunBuiltin(BuiltinProcessor builtin) {
    switch (builtin) {
      case BuiltinProcessor::kLocalizeUrls:
        return LocalizeUrls();
      case BuiltinProcessor::kMarkLocalizedDatasets:
        return MarkLocalizedDatasets();
      case BuiltinProcessor::kValidateChecksumFiles:
        return ValidateChecksumFiles();
      case BuiltinProcessor::kPublishDatasets:
        return PublishDatasets();
      case BuiltinProcessor::kTriage:
        return Triage();
      case BuiltinProcessor::kNone:
        break;
    }
    return Status::OK();
  }

  // hysds.localize.localize_urls: the job's localize_urls, into the job dir
  // (through the input cache unless cache is false).
  // Records metrics.inputs_localized and _prov.wasDerivedFrom.
  Status LocalizeUrls() {
    const auto& urls = p_.job.localize_urls;
    if (urls.empty()) return Status::OK();
    std::vector<localize::LocalizeItem> items;
    for (size_t i = 0; i < urls.size(); ++i) {
      fs::path dest;
      VERDI_RETURN_IF_ERROR(localize::Destination(dir_, i, urls[i].url, urls[i].local_path, &dest));
      items.push_back({urls[i].url, dest, urls[i].cache});
    }
    localize::FetchOptions opts = settings_.fetch;
    if (!container_name_.empty())
      VERDI_RETURN_IF_ERROR(ContainerInputCheck(p_, settings_, dir_, &opts.local_source_check));
    opts.log = [this](const std::string& line) { LogWarning("job {}: {}", job_id(), line); };
    opts.progress = [this](const std::string& line) { LogInfo("job {}: {}", job_id(), line); };
    int stop_signal = 0;  // a stop request stops the downloads
    if (interrupts_ != nullptr) {
      opts.cancelled = [this, &stop_signal] {
        if (stop_signal == 0) stop_signal = interrupts_->Take();
        return stop_signal != 0;
      };
    }
    LogInfo("job {}: localizing {} input(s)", job_id(), items.size());
    std::vector<localize::FetchResult> results;
    Status st =
        localize::LocalizeAll(items, p_.root_work_dir / "cache", opts, &results, &cache_holds_);
    if (stop_signal != 0) {
      Interrupted(stop_signal);
      return Status::Failed("stopped while localizing the inputs");
    }
    if (!st.ok()) return Status::Failed("localizing the inputs: " + st.message());
    Json& localized = info()["metrics"]["inputs_localized"];
    Json derived = Json::array();
    std::vector<fs::path> paths;
    for (size_t i = 0; i < items.size(); ++i) {
      const localize::FetchResult& r = results[i];
      double seconds = SecondsBetween(r.time_start, r.time_end);
      std::string url = RedactUrls(items[i].url);
      localized.push_back({{"url", url},
                           {"path", items[i].dest.string()},
                           {"disk_usage", r.bytes},
                           {"time_start", IsoUtc(r.time_start)},
                           {"time_end", IsoUtc(r.time_end)},
                           {"duration", seconds},
                           {"transfer_rate", seconds > 0 ? r.bytes / seconds : 0.0}});
      derived.push_back("url:" + url);
      paths.push_back(items[i].dest);
    }
    if (!context_.contains("_prov") || !context_["_prov"].is_object())
      context_["_prov"] = Json::object();
    context_["_prov"]["wasDerivedFrom"] = derived;
    localized_paths_ = paths;
    VERDI_RETURN_IF_ERROR(WriteFileAtomic(InDir("_context.json"), DumpJsonFile(context_)));
    return WriteJobJson();
  }

  // hysds.utils.validate_checksum_files: the inputs' checksum sidecars
  //, where localize_urls put them (computed, when that did not run).
  Status ValidateChecksumFiles() {
    std::vector<fs::path> paths = localized_paths_;
    const auto& urls = p_.job.localize_urls;
    if (paths.size() != urls.size()) {
      paths.clear();
      for (size_t i = 0; i < urls.size(); ++i) {
        fs::path dest;
        VERDI_RETURN_IF_ERROR(
            localize::Destination(dir_, i, urls[i].url, urls[i].local_path, &dest));
        paths.push_back(dest);
      }
    }
    return localize::ValidateChecksumFiles(paths);
  }

  // hysds.utils.mark_localized_datasets: the datasets in the job dir are
  // inputs, which publishing passes over.
  Status MarkLocalizedDatasets() {
    std::vector<fs::path> marked;
    VERDI_RETURN_IF_ERROR(localize::MarkLocalizedDatasets(dir_, &marked));
    for (const fs::path& d : marked)
      LogInfo("job {}: input dataset {} marked .localized", job_id(), d.string());
    return Status::OK();
  }

  // Any other processor: a Python function (python_processor.h), given the
  // job with its credentials (as HySDS hands it over) and the context; what
  // it made of both is taken back. An exception fails the job with HySDS's
  // error and the Python traceback; a limit or a stop request ends it as it
  // ends a command.
  Status CallPython(ProcessorPhase phase, const std::string& name, bool* proceed) {
    VERDI_RETURN_IF_ERROR(CheckProcessorModule(phase, name));
    PythonProcessorRequest request;
    request.label = ProcessorLabel(phase);
    request.name = name;
    request.python = settings_.python;
    request.job_dir = dir_;
    request.env = settings_.base_env;
    request.kill_grace = settings_.kill_grace;
    SteadyClock::time_point now = SteadyClock::now();
    if (soft_limit_ && steady_start_ + std::chrono::seconds(*soft_limit_) > now)
      request.soft_deadline = steady_start_ + std::chrono::seconds(*soft_limit_);
    if (hard_limit_ && steady_start_ + std::chrono::seconds(*hard_limit_) > now)
      request.hard_deadline = steady_start_ + std::chrono::seconds(*hard_limit_);
    const bool capped = !request.hard_deadline;
    if (capped) request.hard_deadline = now + kProcessorTimeCap;
    const std::string who = request.label + " " + name;

    Json view = job_;
    RestoreUnredactedFields(unredacted_, &view);
    PythonProcessorCall call;
    python_ran_ = true;
    Status st = CallPythonProcessor(request, view, context_, interrupts_, &call);
    for (size_t start = 0; start < call.output.size();) {
      size_t end = call.output.find('\n', start);
      if (end == std::string::npos) end = call.output.size();
      LogInfo("job {}: {}: {}", job_id(), who, RedactUrls(call.output.substr(start, end - start)));
      start = end + 1;
    }
    traceback_.clear();
    VERDI_RETURN_IF_ERROR(st);
    if (call.job || call.context) VERDI_RETURN_IF_ERROR(TakeBack(call, who));
    switch (call.kind) {
      case PythonProcessorCall::Kind::kReturned:
        LogInfo("job {}: {} returned {}", job_id(), who, call.result);
        *proceed = call.proceed;
        return Status::OK();
      case PythonProcessorCall::Kind::kRaised:
        // As HySDS reports it, the credentials of URLs in it hidden.
        LogWarning("job {}: {} raised {}: {}", job_id(), who, call.exception,
                   RedactUrls(call.error));
        traceback_ = RedactUrls(call.traceback);
        return Status::Failed(RedactUrls(call.error));
      case PythonProcessorCall::Kind::kStopped:
        stopped_ = true;
        if (call.run.ending == Ending::kHardLimit && capped)
          Fail(fmt::format("{} still ran after {} hours: killed", who, kProcessorTimeCap.count()));
        else
          Judge(call.run);
        return Status::Failed(outcome_.error);
    }
    return Status::OK();
  }

  // A job names its processors: with processor_modules set, only functions
  // of those modules (or their submodules) run.
  Status CheckProcessorModule(ProcessorPhase phase, const std::string& name) {
    const std::vector<std::string>& allowed = settings_.processor_modules;
    if (allowed.empty()) return Status::OK();
    for (const std::string& module : allowed)
      if (name.size() > module.size() && name.starts_with(module) && name[module.size()] == '.')
        return Status::OK();
    std::string list;
    for (const std::string& module : allowed) list += (list.empty() ? "" : " ") + module;
    return Status::Failed(
        fmt::format("{} {}: not a function of the modules processors may come "
                    "from (--processor-modules: {})",
                    ProcessorLabel(phase), name, list));
  }

  // The job and the context as a Python processor left them. verdi keeps
  // the shape it relies on (objects, job_info, its metrics); the URLs'
  // credentials are kept aside again.
  Status TakeBack(const PythonProcessorCall& call, const std::string& who) {
    if (call.context && !call.context->is_object())
      return Status::Failed(who + ": left a context that is not an object");
    if (call.job) {
      const Json& job = *call.job;
      const Json* metrics = FindPath(job, {"job_info", "metrics"});
      if (!job.is_object() || metrics == nullptr || !metrics->is_object())
        return Status::Failed(who + ": left a job without its job_info.metrics object");
      Json unredacted = UnredactedFields(job);
      std::vector<LocalizeUrl> urls;
      auto it = unredacted.find("/localize_urls");
      VERDI_RETURN_IF_ERROR(
          ParseLocalizeUrls(JsonField(it == unredacted.end() ? nullptr : &*it, "job.localize_urls"),
                            &urls)
              .WithPrefix(who));
      job_ = job;
      RedactJob(&job_);
      unredacted_ = std::move(unredacted);
      p_.job.localize_urls = std::move(urls);
    }
    if (call.context) context_ = *call.context;
    ShowContext();
    return Status::OK();
  }

  // job.context as HySDS shows it (jobspec/context.h SharesContext).
  void ShowContext() {
    if (shares_context_) job_["context"] = context_;
  }

  // _job.json, its context as HySDS shows it.
  // The first time, into the new dir (see WriteJobFiles); after that, in
  // place of the one readers may be reading.
  Status WriteJobJson(bool first = false) {
    ShowContext();
    return first ? WriteNewFile(InDir("_job.json"), DumpJsonFile(job_))
                 : WriteFileAtomic(InDir("_job.json"), DumpJsonFile(job_));
  }

  Status RunCommand() {
    // A stop request that came while the job was being set up ends it here.
    if (interrupts_ != nullptr) {
      if (int sig = interrupts_->Take(); sig != 0) {
        Interrupted(sig);
        return Status::OK();
      }
    }
    if (!run_command_) {
      // HySDS: the command is skipped and counts as exit code 0, pid 0.
      std::string now = IsoUtc(settings_.machine->Now());
      info()["cmd_start"] = now;
      info()["cmd_end"] = now;
      info()["cmd_duration"] = 0.0;
      info()["status"] = 0;
      info()["pid"] = 0;
      info()["stdout"] = "";
      info()["stderr"] = "";
      return Status::OK();
    }
    RunRequest request;
    request.argv = argv_;
    request.env = CommandEnvironment(settings_.base_env, p_.command.env);
    request.dir = dir_;
    request.kill_grace = settings_.kill_grace;
    if (!container_name_.empty())
      request.orphan_cleanup = EngineArgv(settings_.containers, {"rm", "-f", container_name_});
    if (soft_limit_) request.soft_deadline = steady_start_ + std::chrono::seconds(*soft_limit_);
    if (hard_limit_) request.hard_deadline = steady_start_ + std::chrono::seconds(*hard_limit_);

    LogInfo("job {}: running {}", job_id(), ShellJoin(argv_));
    RunResult result;
    Status st = RunSupervised(request, interrupts_, &result);
    RemoveContainer(settings_.containers, container_name_, job_id(),
                    st.ok() && result.ending == Ending::kExited, result.exit_code);
    // A container's processes end with it, not with the command the
    // supervisor ran: what they did to the owner's access is undone now.
    if (!container_name_.empty())
      if (Status restored = RestoreOwnerAccess(made_.fd(), dir_.string()); !restored.ok())
        LogWarning("job {}: {}", job_id(), restored.message());
    info()["cmd_start"] = IsoUtc(st.ok() ? result.start : settings_.machine->Now());
    info()["cmd_end"] = IsoUtc(st.ok() ? result.end : settings_.machine->Now());
    info()["cmd_duration"] = st.ok() ? SecondsBetween(result.start, result.end) : 0.0;
    info()["status"] = result.exit_code;
    // HySDS: null when the command never ran (its runner wrote no _pid).
    info()["pid"] = result.pid != 0 ? Json(result.pid) : Json(nullptr);
    info()["stdout"] = "";
    info()["stderr"] = "";
    VERDI_RETURN_IF_ERROR(st);
    outcome_.exit_code = result.exit_code;
    Judge(result);
    return Status::OK();
  }

  // HySDS's worker-side dedup (job_dedup.h), after the job's files are
  // written and before job-started. An index that cannot be asked fails the
  // job, as in HySDS.
  Status FindDuplicate() {
    const Json* dedup = FindPath(job_, {"job_info", "dedup"});
    const Json* hash = FindPath(job_, {"job_info", "payload_hash"});
    if (settings_.dedup == nullptr || dedup == nullptr || *dedup != true || hash == nullptr ||
        !hash->is_string())
      return Status::OK();
    std::optional<DuplicateJob> found;
    VERDI_RETURN_IF_ERROR(
        settings_.dedup->FindDuplicate(hash->get<std::string>(), p_.job.task_id, &found));
    if (!found) return Status::OK();
    outcome_.status = kJobDeduped;
    outcome_.dedup_job = found->id;
    outcome_.dedup_msg =
        fmt::format("verdi worker found duplicate job {} with status {}", found->id, found->status);
    LogInfo("job {}: job-deduped: {}", job_id(), outcome_.dedup_msg);
    return Status::OK();
  }

  // A duplicate ends the job before it starts: closed out, no command, no
  // publish or triage, job-deduped.
  JobOutcome EndDeduped() {
    Status st =
        CloseOutJobDir(dir_, {kJobDeduped, 0, "", 0, start_, settings_.machine->Now()}, &job_);
    if (!st.ok()) LogWarning("job {}: {}", job_id(), st.message());
    if (settings_.observer != nullptr) settings_.observer->Finished(job_, outcome_);
    return outcome_;
  }

  // Turns how the command ended into the job's status and error.
  void Judge(const RunResult& result) {
    std::string note;
    switch (result.ending) {
      case Ending::kExited:
      case Ending::kNotStarted:  // as HySDS's runner: exit code 1, the reason in _stderr.txt
        if (result.exit_code != 0)
          Fail(fmt::format("Got non-zero exit code: {}", result.exit_code));
        break;
      case Ending::kSoftLimit:
        // HySDS's error is str(SoftTimeLimitExceeded()); the clearer line
        // goes to _stderr.txt.
        note = fmt::format("Soft time limit ({}s) exceeded for {}.", *soft_limit_, job_id());
        Fail(kSoftTimeLimitError);
        break;
      case Ending::kHardLimit:
        note = fmt::format("Hard time limit ({}s) exceeded for {}.", *hard_limit_, job_id());
        Fail(note);
        break;
      case Ending::kInterrupted:
        Interrupted(result.signal);
        break;
    }
    if (!note.empty()) {
      JobDir dir;
      Status st = JobDir::Open(dir_, &dir);
      if (st.ok()) st = dir.AppendFile("_stderr.txt", note + "\n");
      if (!st.ok()) LogWarning("job {}: {}", job_id(), st.message());
    }
  }

  void Interrupted(int sig) {
    outcome_.signum = sig;
    if (settings_.revoked && settings_.revoked(p_.job.task_id)) {
      outcome_.status = kJobRevoked;
      outcome_.error = RevokedError(sig);
      return;
    }
    outcome_.status = SignalStatus(sig);
    outcome_.error = fmt::format("caught signal {}", sig);
  }

  // The job may have moved its work dir away (leaving a link or another dir
  // in its place) or removed it: nothing at its path is read, published or
  // closed out as if it were the job's; the dir verdi made is closed out
  // wherever it is now, and what the job left at its path is removed (a
  // link, a file) or marked done (a directory), so that nothing stays open.
  Status CheckWorkDirInPlace() {
    if (made_.fd() < 0 || made_.IsAt(dir_)) return Status::OK();
    in_place_ = false;
    moved_to_ = made_.CurrentPath();
    struct stat at;
    bool occupied = lstat(dir_.c_str(), &at) == 0;
    std::string left;
    if (occupied && !S_ISDIR(at.st_mode) && unlink(dir_.c_str()) == 0)
      left = "; what it left at its path was removed";
    else if (occupied && S_ISDIR(at.st_mode) && MarkJobDone(dir_, settings_.machine->Now()).ok())
      left = "; the directory it left at its path was marked done";
    return Status::Failed(fmt::format(
        "{}: the job {} its work dir{}: nothing there is read or published", dir_.string(),
        moved_to_.empty() ? "removed" : "moved (to " + moved_to_.string() + ")", left));
  }

  // The command may have changed _context.json to pass flags back. It is
  // the job's file now: read with no link followed, never from a FIFO.
  Status ReadBackContext() {
    JobDir dir;
    Json reloaded;
    Status st = JobDir::Open(dir_, &dir);
    if (st.ok()) st = dir.ReadJson("_context.json", &reloaded);
    if (!st.ok())
      return Status::Failed("the job left an unreadable _context.json: " + st.message());
    MergeContext(reloaded, &context_);
    ShowContext();
    return Status::OK();
  }

  // The post-processors, once there is a job dir: HySDS's built-in publish
  // unless the job-spec disables it (or the job was deduped), then its
  // `post`, where `hysds.triage.triage` triages a failed job. A processor's
  // failure fails the job with its error, whatever the job's was before,
  // and ends the phase.
  void PostProcess() {
    if (dir_.empty() || !in_place_) return;  // CheckWorkDirInPlace said why
    if (!outcome_.completed()) {
      // HySDS: a failed job's status is never 0, as its post-processors see it.
      if (outcome_.exit_code == 0) outcome_.exit_code = 1;
      info()["status"] = outcome_.exit_code;
    }
    std::vector<std::string> names;
    Status st = ProcessorsOf(job_, ProcessorPhase::kPost, outcome_.status == "job-deduped", &names);
    bool proceed = true;
    stopped_ = false;
    traceback_.clear();
    if (st.ok())
      st = RunProcessors(ProcessorPhase::kPost, names, job_id(), Hooks(ProcessorPhase::kPost),
                         &proceed);
    if (st.ok() || stopped_) return;
    outcome_.status = kJobFailed;
    outcome_.signum = 0;
    outcome_.error = st.message();
    outcome_.traceback = traceback_;
    outcome_.infrastructure_error = st.IsIOError();
  }

  // hysds.dataset_ingest_bulk.publish_datasets: the datasets of a command
  // that ran and exited 0 (publish_step.h); a failure fails the job.
  Status PublishDatasets() {
    VERDI_RETURN_IF_ERROR(NeedsExitCode("hysds.dataset_ingest_bulk.publish_datasets"));
    if (!ExitedZero(info())) {
      LogInfo("job {}: job exited with exit code {}: bypassing dataset publishing", job_id(),
              info().value("status", Json()).dump());
      return Status::OK();
    }
    if (const Json* pid = FindPath(job_, {"job_info", "pid"});
        !pid || !pid->is_number() || *pid == 0) {
      LogInfo("job {}: job command never ran: bypassing dataset publishing", job_id());
      return Status::OK();
    }
    return PublishOrTriage(settings_, dir_, context_, CommandResult::kSucceeded, &job_,
                           &outcome_.datasets);
  }

  // Publish and triage read job_info.status, which is there once the
  // command ran (or failed): listed among the pre-processors, HySDS's raise
  // KeyError.
  Status NeedsExitCode(const char* name) {
    if (info().contains("status")) return Status::OK();
    return Status::Failed(
        fmt::format("{} reads job_info.status, which the job has only after its command: it is a "
                    "post-processor",
                    name));
  }

  // hysds.triage.triage: a job that did not exit 0 becomes a triage product
  // (publish_step.h). A triage failure is logged; the job keeps its error.
  Status Triage() {
    VERDI_RETURN_IF_ERROR(NeedsExitCode("hysds.triage.triage"));
    if (ExitedZero(info())) {
      LogInfo("job {}: job exited with exit code 0: no need to triage", job_id());
      return Status::OK();
    }
    return PublishOrTriage(settings_, dir_, context_, CommandResult::kFailed, &job_,
                           &outcome_.datasets);
  }

  void CloseOut() {
    WallClock::time_point end = settings_.machine->Now();
    if (!outcome_.error.empty()) {
      // HySDS: a failed job's status is never 0.
      if (outcome_.exit_code == 0) outcome_.exit_code = 1;
      if (outcome_.status.empty()) outcome_.status = kJobFailed;
    } else {
      outcome_.status = kJobCompleted;
    }
    if (dir_.empty()) return;  // nothing was created
    fs::path dir = in_place_ ? dir_ : moved_to_;
    if (dir.empty()) return;  // the job removed it: nothing left to close
    CloseOutJobDir(
        dir, {outcome_.status, outcome_.exit_code, outcome_.error, outcome_.signum, start_, end},
        &job_);
  }

  PreparedJob& p_;
  Json& job_;
  const PipelineSettings& settings_;
  Interrupts* interrupts_;
  // The cache entries this job's inputs link to: not evicted while it runs.
  localize::CacheHolds cache_holds_;
  WallClock::time_point start_;
  SteadyClock::time_point steady_start_;
  fs::path dir_;
  JobDir made_;                    // dir_ as verdi made it, open from its creation on
  bool in_place_ = true;           // false once the job moved or removed it
  fs::path moved_to_;              // where the job moved it, when it did
  std::vector<std::string> argv_;  // the job's argv, or the container run wrapping it
  std::string container_name_;     // set when the job runs in a container
  Json context_;
  // The job's URLs with their credentials (job_redaction.h).
  Json unredacted_;
  // Where localize_urls put the inputs, once it ran.
  std::vector<fs::path> localized_paths_;
  // False when a pre-processor did not signal continuation.
  bool run_command_ = true;
  // The traceback of the Python processor that raised last.
  std::string traceback_;
  // A processor was stopped by a limit or a stop request (outcome_ says how).
  bool stopped_ = false;
  // A Python processor ran (and may have changed the job).
  bool python_ran_ = false;
  bool shares_context_ = false;
  Json images_ = Json::object();  // the job's image URLs before redaction
  std::optional<int64_t> soft_limit_, hard_limit_;
  JobOutcome outcome_;
};

}  // namespace

Status PrepareJob(Json payload, const PipelineSettings& settings, PreparedJob* prepared) {
  PreparedJob out;
  VERDI_RETURN_IF_ERROR(ParseJob(std::move(payload), &out.job));
  Job& job = out.job;
  if (job.task_id.empty()) {
    job.task_id = NewUuid4();
    job.doc["task_id"] = job.task_id;
  }

  WorkerConfig config;
  VERDI_RETURN_IF_ERROR(LoadWorkerConfig(job, settings, &config));
  const TypeConfig* type_config = config.Find(job.type);
  if (type_config == nullptr)
    return Status::Invalid(fmt::format(
        "job.type: no work configuration for type '{}'{}", job.type,
        settings.worker_config_file ? " in " + *settings.worker_config_file : std::string()));
  out.command = type_config->command;
  VERDI_RETURN_IF_ERROR(ResolveArgv(out.command, job.doc["params"], &out.argv));
  VERDI_RETURN_IF_ERROR(CheckNoNul(out.argv));
  out.disk_usage_bytes =
      type_config->disk_usage_bytes ? type_config->disk_usage_bytes : job.disk_usage_bytes;

  out.root_work_dir = settings.root_work_dir ? *settings.root_work_dir
                      : config.root_work_dir ? fs::path(*config.root_work_dir)
                                             : fs::path(kDefaultRootWorkDir);
  if (!out.root_work_dir.is_absolute())
    out.root_work_dir = fs::absolute(out.root_work_dir).lexically_normal();
  std::string port = settings.webdav_port ? *settings.webdav_port
                     : config.webdav_port ? *config.webdav_port
                                          : kDefaultWebdavPort;
  out.webdav_url = settings.webdav_url ? *settings.webdav_url
                   : config.webdav_url
                       ? *config.webdav_url
                       : fmt::format("http://{}:{}", GetHostFacts().public_ip, port);
  while (!out.webdav_url.empty() && out.webdav_url.back() == '/') out.webdav_url.pop_back();
  *prepared = std::move(out);
  return Status::OK();
}

JobOutcome RunPreparedJob(PreparedJob* prepared, const PipelineSettings& settings,
                          Interrupts* interrupts) {
  return JobRun(prepared, settings, interrupts).Run();
}

}  // namespace verdi
