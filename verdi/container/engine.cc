#include "verdi/container/engine.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <thread>

#include "base/files.h"
#include "base/log.h"
#include "jobspec/job_status.h"
#include "localize/checksum.h"
#include "localize/url.h"
#include "verdi/container/image_cache.h"
#include "verdi/workdir/close_out.h"

extern char** environ;

namespace verdi {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kQuickTimeout{60};
constexpr std::chrono::minutes kLoadTimeout{30};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t start = s.find_first_not_of(" \n\r\t");
  return start == std::string::npos ? "" : s.substr(start);
}

std::string Describe(const ContainerSettings& settings, const std::vector<std::string>& args,
                     const EngineResult& r) {
  std::string what = settings.engine + " " + args.front();
  if (r.timed_out) return what + ": timed out";
  std::string err = Trim(r.err);
  return fmt::format("{} failed (exit code {}){}{}", what, r.exit_code, err.empty() ? "" : ": ",
                     err);
}

// A local tarball against `expected`, else its `<tarball>.sha256` sidecar.
Status VerifySha256(const std::string& tarball, std::optional<std::string> expected) {
  if (!expected) {
    std::string sidecar;
    if (!ReadFileToString(tarball + ".sha256", &sidecar).ok()) return Status::OK();
    expected = sidecar;
  }
  std::string want = NormalizeSha256(*expected);
  std::string got;
  VERDI_RETURN_IF_ERROR(localize::FileDigest(tarball, "sha256", &got));
  if (got != want)
    return Status::Failed(fmt::format("container image {}: sha256 mismatch: expected {}, got {}",
                                      tarball, want, got));
  return Status::OK();
}

// An exclusive flock on `path`, waiting at most `wait`; released when the fd
// is closed.
Status LockFile(const fs::path& path, std::chrono::seconds wait, int* fd_out) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("opening " + path.string(), errno);
  Clock::time_point deadline = Clock::now() + wait;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int err = errno;
      close(fd);
      return Status::IOError("locking " + path.string(), err);
    }
    if (Clock::now() >= deadline) {
      close(fd);
      return Status::Failed(fmt::format("waited {}s for another job loading the image ({})",
                                        wait.count(), path.string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  *fd_out = fd;
  return Status::OK();
}

// Whether `name` names its registry host itself ("host.domain/x",
// "host:5000/x", "localhost/x"): CONTAINER_REGISTRY is not put in front.
bool NamesRegistry(const std::string& name) {
  size_t slash = name.find('/');
  if (slash == std::string::npos) return false;
  std::string first = name.substr(0, slash);
  return first == "localhost" || first.find_first_of(".:") != std::string::npos;
}

Status Load(const ContainerSettings& settings, const std::string& name,
            const std::string& tarball) {
  EngineResult r;
  VERDI_RETURN_IF_ERROR(RunEngine(settings, {"load", "-i", tarball}, kLoadTimeout, &r));
  if (r.exit_code != 0)
    return Status::Failed("loading image " + name + ": " + Describe(settings, {"load"}, r));
  return Status::OK();
}

// A tarball from a URL: a local file is loaded where it is; a network URL
// goes through the image cache (downloaded once, kept within the bound).
Status LoadFromUrl(const ContainerSettings& settings, const ImageSource& source,
                   const fs::path& cache_dir, const localize::FetchOptions& fetch) {
  localize::Url url;
  VERDI_RETURN_IF_ERROR(
      localize::ParseUrl(*source.url, &url).WithPrefix("image " + source.name + ": image URL"));
  if (!url.IsNetwork()) {
    VERDI_RETURN_IF_ERROR(VerifySha256(url.path, source.sha256));
    LogInfo("image {}: loading {}", source.name, url.path);
    return Load(settings, source.name, url.path);
  }
  localize::FetchOptions opts = fetch;
  opts.log = [&source](const std::string& line) { LogWarning("image {}: {}", source.name, line); };
  opts.progress = [&source](const std::string& line) {
    LogInfo("image {}: {}", source.name, line);
  };
  fs::path images = cache_dir / "images";
  ImageTarball tarball;
  VERDI_RETURN_IF_ERROR(GetImageTarball(images, *source.url, source.sha256, opts, &tarball)
                            .WithPrefix("image " + source.name));
  LogInfo("image {}: loading {} ({})", source.name, url.Redacted(),
          tarball.downloaded() ? "downloaded" : "from the image cache");
  Status st = Load(settings, source.name, tarball.file().string());
  if (!st.ok()) tarball.Discard();  // the next job downloads it again
  tarball.Release();
  std::vector<fs::path> evicted;
  Status evict = EvictImageTarballs(images, settings.image_cache_bytes, &evicted);
  if (!evict.ok()) LogWarning("image cache: {}", evict.message());
  for (const auto& e : evicted) LogInfo("image cache: evicted {}", e.string());
  return st;
}

Status Acquire(const ContainerSettings& settings, const ImageSource& source,
               const fs::path& cache_dir, const localize::FetchOptions& fetch) {
  if (source.registry && !source.registry->empty() && !NamesRegistry(source.name)) {
    std::string remote = *source.registry + "/" + source.name;
    EngineResult r;
    LogInfo("image {}: pulling {}", source.name, remote);
    Status st = RunEngine(settings, {"pull", remote}, kLoadTimeout, &r);
    if (st.ok() && r.exit_code == 0)
      st = RunEngine(settings, {"tag", remote, source.name}, kQuickTimeout, &r);
    if (st.ok() && r.exit_code == 0) return Status::OK();
    LogWarning("image {}: from registry {}: {}", source.name, *source.registry,
               st.ok() ? Trim(r.err) : st.message());
    std::optional<std::string> id;
    if (InspectImage(settings, source.name, &id).ok() && id) return Status::OK();
  }
  if (source.url) return LoadFromUrl(settings, source, cache_dir, fetch);
  LogInfo("image {}: pulling", source.name);
  EngineResult r;
  VERDI_RETURN_IF_ERROR(RunEngine(settings, {"pull", source.name}, kLoadTimeout, &r));
  if (r.exit_code != 0)
    return Status::Failed("pulling image " + source.name + ": " + Describe(settings, {"pull"}, r));
  return Status::OK();
}

}  // namespace

Status RunEngine(const ContainerSettings& settings, const std::vector<std::string>& args,
                 std::chrono::milliseconds timeout, EngineResult* result) {
  return RunCommandOutput(EngineArgv(settings, args), "", timeout, result)
      .WithPrefix("container engine");
}

Status InspectImage(const ContainerSettings& settings, const std::string& image,
                    std::optional<std::string>* id) {
  EngineResult r;
  VERDI_RETURN_IF_ERROR(
      RunEngine(settings, {"image", "inspect", "--format", "{{.Id}}", image}, kQuickTimeout, &r));
  if (r.timed_out) return Status::Failed(Describe(settings, {"image inspect"}, r));
  *id = r.exit_code == 0 && !Trim(r.out).empty() ? std::optional<std::string>(Trim(r.out))
                                                 : std::nullopt;
  return Status::OK();
}

Status EnsureImage(const ContainerSettings& settings, const ImageSource& source,
                   const fs::path& cache_dir, const localize::FetchOptions& fetch,
                   std::string* image_id) {
  VERDI_RETURN_IF_ERROR(CheckImageName(source.name));
  std::optional<std::string> id;
  VERDI_RETURN_IF_ERROR(InspectImage(settings, source.name, &id));
  if (!id) {
    std::string lock_name = source.name;
    for (char& c : lock_name)
      if (c == '/' || c == ':') c = '_';
    int fd = -1;
    VERDI_RETURN_IF_ERROR(LockFile(cache_dir / (lock_name + ".load.lock"),
                                   std::chrono::seconds(settings.image_lock_wait_seconds), &fd));
    // Another job may have loaded it while this one waited.
    Status st = InspectImage(settings, source.name, &id);
    if (st.ok() && !id) st = Acquire(settings, source, cache_dir, fetch);
    if (st.ok() && !id) st = InspectImage(settings, source.name, &id);
    close(fd);
    VERDI_RETURN_IF_ERROR(st);
    if (!id) return Status::Failed("image " + source.name + " is still missing after loading it");
  }
  *image_id = *id;
  return Status::OK();
}

std::string MachineArch() {
  struct utsname u;
  return uname(&u) == 0 ? u.machine : "";
}

std::optional<std::string> ImageUrlFor(const Json& job, const std::string& arch) {
  if (auto it = job.find("container_image_urls"); it != job.end()) {
    Json urls = *it;
    if (urls.is_string()) urls = Json::parse(urls.get<std::string>(), nullptr, false);
    if (urls.is_object() && urls.contains(arch) && urls[arch].is_string())
      return urls[arch].get<std::string>();
  }
  if (auto it = job.find("container_image_url");
      it != job.end() && it->is_string() && !it->get<std::string>().empty())
    return it->get<std::string>();
  return std::nullopt;
}

Status ContainerExists(const ContainerSettings& settings, const std::string& name, bool* exists) {
  EngineResult r;
  VERDI_RETURN_IF_ERROR(RunEngine(settings, {"container", "inspect", "--format", "{{.Id}}", name},
                                  kQuickTimeout, &r));
  if (r.timed_out) return Status::Failed(Describe(settings, {"container inspect"}, r));
  *exists = r.exit_code == 0;
  return Status::OK();
}

Status KillContainer(const ContainerSettings& settings, const std::string& name) {
  EngineResult r;
  VERDI_RETURN_IF_ERROR(RunEngine(settings, {"kill", name}, kQuickTimeout, &r));
  VERDI_RETURN_IF_ERROR(RunEngine(settings, {"rm", "-f", name}, kQuickTimeout, &r));
  bool exists = false;
  VERDI_RETURN_IF_ERROR(ContainerExists(settings, name, &exists));
  if (exists)
    return Status::Failed("container " + name +
                          " is still there: " + Describe(settings, {"rm"}, r));
  return Status::OK();
}

Status RemoveOrphanContainers(const ContainerSettings& settings, const std::string& worker_name,
                              WallClock::time_point now, int* removed,
                              const AbandonedJobReport& closed) {
  if (removed != nullptr) *removed = 0;
  EngineResult r;
  VERDI_RETURN_IF_ERROR(
      RunEngine(settings,
                {"ps", "-a", "--filter", std::string("label=") + kLabelWorker + "=" + worker_name,
                 "--format", "{{.Names}}"},
                kQuickTimeout, &r));
  if (r.exit_code != 0) return Status::Failed(Describe(settings, {"ps"}, r));
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < r.out.size()) {
    size_t end = r.out.find('\n', pos);
    if (end == std::string::npos) end = r.out.size();
    std::string name = Trim(r.out.substr(pos, end - pos));
    if (!name.empty()) names.push_back(name);
    pos = end + 1;
  }
  Status first = Status::OK();
  for (const auto& name : names) {
    EngineResult labels;
    std::string format = std::string("{{index .Config.Labels \"") + kLabelJobDir + "\"}}";
    Status st = RunEngine(settings, {"container", "inspect", "--format", format, name},
                          kQuickTimeout, &labels);
    std::string job_dir = st.ok() && labels.exit_code == 0 ? Trim(labels.out) : "";
    st = KillContainer(settings, name);
    if (!st.ok()) {
      LogError("orphan container {}: {}", name, st.message());
      if (first.ok()) first = st;
      continue;
    }
    LogWarning("removed container {} left by an earlier run of worker {}", name, worker_name);
    if (removed != nullptr) ++*removed;
    if (job_dir.empty() || job_dir == "<no value>") continue;
    std::string reason = fmt::format(
        "Worker {} restarted while this job's container {} was running: container removed, job "
        "failed.",
        worker_name, name);
    if (!fs::exists(fs::path(job_dir) / ".running")) continue;
    Json job;
    st = CloseOutAbandonedJob(job_dir, reason, now, &job);
    if (closed) closed(job, reason);
  }
  return first;
}

}  // namespace verdi
