#include "verdi/job/pipeline.h"

#include <fmt/format.h>
#include <unistd.h>

#include "base/files.h"
#include "base/log.h"
#include "base/redact.h"
#include "jobspec/context.h"
#include "jobspec/job_files.h"
#include "jobspec/job_status.h"
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
#include "verdi/job/publish_step.h"
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

// The limit from job_info, else from the job-spec; 0 means none.
std::optional<int64_t> Limit(std::optional<int64_t> from_job_info,
                             std::optional<int64_t> from_spec) {
  std::optional<int64_t> limit = from_job_info ? from_job_info : from_spec;
  if (limit && *limit == 0) return std::nullopt;
  return limit;
}

// Credentials in localize_urls never reach the job files or the statuses.
void RedactLocalizeUrls(Json* list) {
  if (!list->is_array()) return;
  for (Json& entry : *list) {
    if (entry.is_object() && entry.contains("url") && entry["url"].is_string())
      entry["url"] = RedactUrls(entry["url"].get<std::string>());
    else if (entry.is_string())
      entry = RedactUrls(entry.get<std::string>());
  }
}

// The image URLs of a job (container_image_url(s), also in
// dependency_images), which may hold credentials, redacted in place.
void RedactImageUrls(Json* holder) {
  if (!holder->is_object()) return;
  if (auto it = holder->find("container_image_url"); it != holder->end() && it->is_string())
    *it = RedactUrls(it->get<std::string>());
  if (auto it = holder->find("container_image_urls"); it != holder->end()) {
    if (it->is_string()) *it = RedactUrls(it->get<std::string>());
    if (it->is_object())
      for (auto& [arch, url] : it->items())
        if (url.is_string()) url = RedactUrls(url.get<std::string>());
  }
  if (auto it = holder->find("dependency_images"); it != holder->end() && it->is_array())
    for (Json& dep : *it) RedactImageUrls(&dep);
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
    RedactImageUrls(&job_);
    if (job_.contains("localize_urls")) RedactLocalizeUrls(&job_["localize_urls"]);
    if (job_.contains("params") && job_["params"].is_object() &&
        job_["params"].contains("localize_urls"))
      RedactLocalizeUrls(&job_["params"]["localize_urls"]);
    Status st = MakeRoom();
    if (st.ok()) st = CreateDirectory();
    if (st.ok()) st = WriteJobFiles();
    if (st.ok()) st = FindDuplicate();
    if (!outcome_.dedup_job.empty()) return EndDeduped();
    if (st.ok() && settings_.observer != nullptr) settings_.observer->Started(job_);
    if (st.ok()) st = Localize();
    if (st.ok()) st = RunCommand();
    if (st.ok()) st = ReadBackContext();
    if (!st.ok() && outcome_.error.empty()) {
      Fail(st.message());
      outcome_.infrastructure_error = st.IsIOError();
    }
    Publish();
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
    return Status::OK();
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
    VERDI_RETURN_IF_ERROR(WriteFileAtomic(InDir("_context.json"), DumpJsonFile(context_)));
    ShowContext();
    VERDI_RETURN_IF_ERROR(WriteJobJson());
    VERDI_RETURN_IF_ERROR(st);
    return WriteFileAtomic(InDir("_run.sh"), RunScript(settings_.base_env, p_.command.env, argv_),
                           0755);
  }

  // The job's localize_urls, into the job dir (through the input cache
  // unless cache is false), then their checksum sidecars checked (HySDS
  // reference §4.2, §4.3). Records metrics.inputs_localized and
  // _prov.wasDerivedFrom.
  Status Localize() {
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
    VERDI_RETURN_IF_ERROR(WriteFileAtomic(InDir("_context.json"), DumpJsonFile(context_)));
    ShowContext();
    VERDI_RETURN_IF_ERROR(WriteJobJson());
    VERDI_RETURN_IF_ERROR(localize::ValidateChecksumFiles(paths));
    // Input datasets are marked so that publishing passes them over (§4.3).
    std::vector<fs::path> marked;
    VERDI_RETURN_IF_ERROR(localize::MarkLocalizedDatasets(dir_, &marked));
    for (const fs::path& d : marked)
      LogInfo("job {}: input dataset {} marked .localized", job_id(), d.string());
    return Status::OK();
  }

  // job.context as HySDS shows it (jobspec/context.h SharesContext).
  void ShowContext() {
    if (shares_context_) job_["context"] = context_;
  }

  Status WriteJobJson() { return WriteFileAtomic(InDir("_job.json"), DumpJsonFile(job_)); }

  Status RunCommand() {
    // A stop request that came while the job was being set up ends it here.
    if (interrupts_ != nullptr) {
      if (int sig = interrupts_->Take(); sig != 0) {
        Interrupted(sig);
        return Status::OK();
      }
    }
    RunRequest request;
    request.argv = argv_;
    request.env = CommandEnvironment(settings_.base_env, p_.command.env);
    request.dir = dir_;
    request.kill_grace = settings_.kill_grace;
    if (!container_name_.empty())
      request.orphan_cleanup = EngineArgv(settings_.containers, {"rm", "-f", container_name_});
    const JobSpec* spec = p_.job.spec ? &*p_.job.spec : nullptr;
    soft_limit_ = Limit(p_.job.soft_time_limit, spec ? spec->soft_time_limit : std::nullopt);
    hard_limit_ = Limit(p_.job.time_limit, spec ? spec->time_limit : std::nullopt);
    if (soft_limit_) request.soft_deadline = steady_start_ + std::chrono::seconds(*soft_limit_);
    if (hard_limit_) request.hard_deadline = steady_start_ + std::chrono::seconds(*hard_limit_);

    LogInfo("job {}: running {}", job_id(), ShellJoin(argv_));
    RunResult result;
    Status st = RunSupervised(request, interrupts_, &result);
    RemoveContainer(settings_.containers, container_name_, job_id(),
                    st.ok() && result.ending == Ending::kExited);
    info()["cmd_start"] = IsoUtc(st.ok() ? result.start : settings_.machine->Now());
    info()["cmd_end"] = IsoUtc(st.ok() ? result.end : settings_.machine->Now());
    info()["cmd_duration"] = st.ok() ? SecondsBetween(result.start, result.end) : 0.0;
    info()["status"] = result.exit_code;
    info()["pid"] = result.pid;
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
        if (result.exit_code != 0)
          Fail(fmt::format("Got non-zero exit code: {}", result.exit_code));
        break;
      case Ending::kNotStarted:
        Fail(result.error);
        break;
      case Ending::kSoftLimit:
        note = fmt::format("Soft time limit ({}s) exceeded for {}.", *soft_limit_, job_id());
        Fail(note);
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
    outcome_.status = SignalStatus(sig);
    outcome_.signum = sig;
    outcome_.error = fmt::format("caught signal {}", sig);
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

  // Datasets of a command that succeeded are published, a failed job is
  // triaged (publish_step.h); a publish failure fails the job.
  void Publish() {
    if (dir_.empty()) return;
    if (!IsRealDirectory(dir_)) {
      // The job moved its dir away and left something else in its place:
      // nothing there is read, published or written.
      Fail(dir_.string() + ": the job dir is no longer a directory (the job replaced it)");
      return;
    }
    CommandResult result = !outcome_.completed()         ? CommandResult::kFailed
                           : info().value("pid", 0) == 0 ? CommandResult::kNotRun
                                                         : CommandResult::kSucceeded;
    Status st = PublishOrTriage(settings_, dir_, context_, result, &job_);
    if (!st.ok()) Fail(st.message());
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
    CloseOutJobDir(
        dir_, {outcome_.status, outcome_.exit_code, outcome_.error, outcome_.signum, start_, end},
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
  std::vector<std::string> argv_;  // the job's argv, or the container run wrapping it
  std::string container_name_;     // set when the job runs in a container
  Json context_;
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
  // exec would cut an argument at a NUL while _run.sh recorded all of it.
  for (size_t i = 0; i < out.argv.size(); ++i)
    if (out.argv[i].find('\0') != std::string::npos)
      return Status::Invalid(
          fmt::format("job.params: argument {} of the command contains a NUL byte", i));
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
