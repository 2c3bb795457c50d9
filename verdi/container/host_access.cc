#include "verdi/container/host_access.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

namespace verdi {
namespace fs = std::filesystem;
namespace {

// An entry of a rule: resolved when it exists, else only normalized.
std::string Canonical(const std::string& path) {
  std::string resolved;
  if (ResolveHostPath(path, &resolved).ok()) return WithoutAliases(resolved);
  std::string s = fs::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return WithoutAliases(s);
}

// The worker's homes: $HOME as the job's mappings expand it and as verdi
// has it, the passwd entry's, and $HOST_VERDI_HOME (HySDS job-specs map
// "$HOST_VERDI_HOME/.netrc").
std::vector<std::string> Homes(const EnvLookup& lookup) {
  std::vector<std::string> homes;
  for (const char* name : {"HOME", "HOST_VERDI_HOME"})
    if (auto v = lookup(name)) homes.push_back(*v);
  if (const char* v = getenv("HOME")) homes.emplace_back(v);
  struct passwd pw, *found = nullptr;
  char buf[4096];
  if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr)
    homes.emplace_back(found->pw_dir);
  return homes;
}

// podman's own storage: --root, --runroot and --tmpdir among the global
// arguments, and graphroot, runroot and rootless_storage_path of the
// storage.conf that CONTAINERS_STORAGE_CONF names.
std::vector<std::string> EngineStorage(const ContainerSettings& settings, const EnvLookup& lookup) {
  std::vector<std::string> out;
  const auto& args = settings.global_args;
  for (size_t i = 0; i < args.size(); ++i)
    for (const char* flag : {"--root", "--runroot", "--tmpdir"}) {
      std::string f = flag;
      if (args[i] == f && i + 1 < args.size()) out.push_back(args[i + 1]);
      if (args[i].rfind(f + "=", 0) == 0) out.push_back(args[i].substr(f.size() + 1));
    }
  if (auto conf = lookup("CONTAINERS_STORAGE_CONF")) {
    std::ifstream in(*conf);
    for (std::string line; std::getline(in, line);) {
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      auto trim = [](std::string s) {
        size_t b = s.find_first_not_of(" \t\"'"), e = s.find_last_not_of(" \t\"'");
        return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
      };
      std::string key = trim(line.substr(0, eq));
      if (key == "graphroot" || key == "runroot" || key == "rootless_storage_path")
        out.push_back(trim(line.substr(eq + 1)));
    }
  }
  for (const char* name : {"DOCKER_HOST", "CONTAINER_HOST"})
    if (auto v = lookup(name); v && v->rfind("unix://", 0) == 0) out.push_back(v->substr(7));
  return out;
}

}  // namespace

void HostAccess::Add(std::vector<Entry>* list, const std::string& path, std::string what) {
  if (path.empty() || path[0] != '/') return;
  std::string p = Canonical(path);
  for (const Entry& have : *list)
    if (have.path == p) return;
  list->push_back({p, std::move(what)});
}

Status ResolveHostPath(const std::string& path, std::string* resolved) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR)
      return Status::NotFound(path + ": no such file or directory on this host");
    return Status::IOError("resolving " + path, errno);
  }
  *resolved = buf;
  return Status::OK();
}

std::string WithoutAliases(const std::string& path) {
  static const std::pair<const char*, const char*> kAliases[] = {
      {"/bin", "/usr/bin"},     {"/sbin", "/usr/sbin"},     {"/lib", "/usr/lib"},
      {"/lib32", "/usr/lib32"}, {"/lib64", "/usr/lib64"},   {"/libx32", "/usr/libx32"},
      {"/var/run", "/run"},     {"/var/lock", "/run/lock"},
  };
  for (const auto& [alias, real] : kAliases)
    if (IsPathUnder(path, alias)) return real + path.substr(std::string(alias).size());
  return path;
}

bool IsPathUnder(const std::string& path, const std::string& prefix) {
  if (prefix == "/") return true;
  return path == prefix ||
         (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
          path[prefix.size()] == '/');
}

Status HostAccess::Make(const fs::path& root_work_dir, const fs::path& job_dir,
                        const std::vector<std::string>& config_files,
                        const ContainerSettings& settings, const EnvLookup& lookup,
                        HostAccess* out) {
  HostAccess a;
  std::string root, dir;
  VERDI_RETURN_IF_ERROR(ResolveHostPath(root_work_dir.string(), &root).WithPrefix("the work root"));
  VERDI_RETURN_IF_ERROR(ResolveHostPath(job_dir.string(), &dir).WithPrefix("the job dir"));
  a.root_ = WithoutAliases(root);
  a.job_dir_ = WithoutAliases(dir);
  a.cache_ = Canonical(root + "/cache");
  if (settings.mount_layout == MountLayout::kHysds)
    for (const char* sub : {"/jobs", "/tasks", "/workers"})
      a.shared_dirs_.push_back(Canonical(root + sub));
  a.cache_read_only_ = settings.cache_read_only;

  for (const std::string& home : Homes(lookup)) {
    if (home.empty() || home[0] != '/' || Canonical(home) == "/") continue;
    Add(&a.homes_, home, "the worker's home");
    Add(&a.holders_, home, "the worker's home");
    for (const char* sub : {".ssh", ".gnupg", ".kube"})
      Add(&a.never_, home + "/" + sub, "the worker's credentials");
    for (const char* sub : {".docker", ".config/containers", ".local/share/containers"})
      Add(&a.never_, home + "/" + sub, "the container engine's credentials and storage");
  }
  for (const auto& [p, what] : std::initializer_list<std::pair<const char*, const char*>>{
           {"/proc", "the host's processes"},
           {"/sys", "the kernel's objects"},
           {"/dev", "the host's devices"},
           {"/run", "the host's runtime state and sockets"},
           {"/boot", "the host's boot files"},
           {"/etc", "the host's configuration"},
           {"/root", "root's home"},
           {"/var/lib/docker", "the container engine's storage"},
           {"/var/lib/containers", "the container engine's storage"}}) {
    bool is_home = false;
    for (const Entry& h : a.homes_) is_home = is_home || h.path == Canonical(p);
    if (!is_home) Add(&a.never_, p, what);
  }
  if (auto xdg = lookup("XDG_RUNTIME_DIR"))
    Add(&a.never_, *xdg, "the worker's runtime dir (the engine's sockets)");
  for (const std::string& p : EngineStorage(settings, lookup))
    Add(&a.never_, p, "the container engine's storage or socket");
  Add(&a.holders_, a.root_, "the work root");
  for (const std::string& f : config_files) Add(&a.read_only_, f, "a config file of the worker");
  std::string exe;
  if (ResolveHostPath("/proc/self/exe", &exe).ok()) Add(&a.read_only_, exe, "the verdi executable");
  for (const std::string& p : settings.mount_blacklist) Add(&a.blacklist_, p, "");

  // Every path a rule names, and every directory above one, by identity.
  std::vector<std::string> named = {a.root_, a.job_dir_, a.cache_};
  named.insert(named.end(), a.shared_dirs_.begin(), a.shared_dirs_.end());
  for (const auto* list : {&a.never_, &a.holders_, &a.homes_, &a.read_only_, &a.blacklist_})
    for (const Entry& e : *list) named.push_back(e.path);
  for (const std::string& path : named)
    for (fs::path p = path;; p = p.parent_path()) {
      struct stat st;
      if (stat(p.c_str(), &st) == 0) a.known_.emplace(std::make_pair(st.st_dev, st.st_ino), p);
      if (p == p.parent_path()) break;
    }
  *out = std::move(a);
  return Status::OK();
}

Status HostAccess::Check(const std::string& path, bool writable) const {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    return Status::Invalid(
        "it is a socket, a device or a FIFO: a container job gets only files and directories");
  VERDI_RETURN_IF_ERROR(CheckPath(WithoutAliases(path), writable));
  // The same file or directory under another name than the one a rule uses
  // (a bind mount, a hard link): the rules hold for that name too.
  for (fs::path a = path;; a = a.parent_path()) {
    if (stat(a.c_str(), &st) == 0) {
      auto it = known_.find(std::make_pair(st.st_dev, st.st_ino));
      if (it != known_.end() && it->second != WithoutAliases(a.string())) {
        std::string rest = path.substr(a.string().size());
        std::string other = it->second == "/" ? (rest.empty() ? "/" : rest) : it->second + rest;
        Status refused = CheckPath(other, writable);
        if (!refused.ok())
          return Status::Invalid(fmt::format("{} is {} under another name, and {}", a.string(),
                                             it->second, refused.message()));
      }
    }
    if (a == a.parent_path()) break;
  }
  return Status::OK();
}

Status HostAccess::CheckPath(const std::string& p, bool writable) const {
  if (p == "/") return Status::Invalid("it is the host's root /");
  for (const Entry& e : never_) {
    if (IsPathUnder(p, e.path))
      return Status::Invalid(fmt::format("it is {}{} ({}), which no container job may reach",
                                         p == e.path ? "" : "under ", e.path, e.what));
    if (IsPathUnder(e.path, p))
      return Status::Invalid(
          fmt::format("it holds {} ({}), which no container job may reach", e.path, e.what));
  }
  for (const Entry& e : holders_)
    if (IsPathUnder(e.path, p))
      return Status::Invalid(
          fmt::format("it {} {} {}", p == e.path ? "is" : "holds", e.what, e.path));
  if (IsPathUnder(p, root_)) {
    if (IsPathUnder(p, job_dir_)) return Status::OK();
    if (IsPathUnder(p, cache_)) {
      if (writable && cache_read_only_)
        return Status::Invalid(
            "it is in the input cache, which containers get read-only (CACHE_READ_ONLY)");
      return Status::OK();
    }
    for (const std::string& d : shared_dirs_)
      if (IsPathUnder(p, d)) return Status::OK();
    return Status::Invalid(fmt::format(
        "it is inside the work root {} but outside this job's dir {}: a container job reaches "
        "only its own dir and the cache (CONTAINER_MOUNT_LAYOUT=hysds gives it jobs/, tasks/ and "
        "workers/ as HySDS does)",
        root_, job_dir_));
  }
  if (writable) {
    for (const Entry& e : homes_)
      if (IsPathUnder(p, e.path))
        return Status::Invalid(
            fmt::format("it is below {} {}, which a container job may only read (map it \"ro\")",
                        e.what, e.path));
    for (const Entry& e : read_only_)
      if (IsPathUnder(e.path, p))
        return Status::Invalid(
            fmt::format("it {} {} {}, which a container job may only read (map it \"ro\")",
                        p == e.path ? "is" : "holds", e.what, e.path));
  }
  for (const Entry& e : blacklist_)
    if (IsPathUnder(p, e.path))
      return Status::Invalid(
          fmt::format("it is under the blacklisted {} (WORKER_MOUNT_BLACKLIST)", e.path));
  return Status::OK();
}

}  // namespace verdi
