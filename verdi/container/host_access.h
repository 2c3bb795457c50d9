// What a container job may reach on the host. Every host path a job's
// container would see (the source of a mount, a file:// input copied in for
// it) is resolved first (symlinks, "..", then merged-/usr and /var/run
// aliases), and the resolved path is what is checked and what the engine is
// given.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/env_vars.h"
#include "base/status.h"
#include "verdi/container/container_settings.h"

namespace verdi {

/// `path` as the kernel resolves it (realpath: every symlink and ".."
/// followed). NotFound when it does not exist, IOError for other failures.
Status ResolveHostPath(const std::string& path, std::string* resolved);

/// An absolute path with the aliases of merged /usr and of /run in one
/// spelling (/bin, /sbin, /lib, /lib32, /lib64, /libx32 as /usr/...;
/// /var/run as /run, /var/lock as /run/lock), so that a rule written for
/// one spelling holds for the other on every host, merged or not.
std::string WithoutAliases(const std::string& path);

/// `path` is `prefix` or below it, component-wise ("/etcetera" is not below
/// "/etc"; everything is below "/").
bool IsPathUnder(const std::string& path, const std::string& prefix);

/// The rule for one job. Refused, whatever WORKER_MOUNT_BLACKLIST says:
/// `/`; /proc, /sys, /dev, /run, /boot, /etc and /root (unless it is the
/// worker's home) with what is below them; the engine's storage and sockets
/// (/var/lib/docker, /var/lib/containers, $XDG_RUNTIME_DIR, DOCKER_HOST's
/// socket, podman's --root/--runroot and CONTAINERS_STORAGE_CONF's
/// graphroot/runroot); in the worker's homes ($HOME, the passwd entry's,
/// $HOST_VERDI_HOME) .ssh, .gnupg, .kube, .docker, .config/containers and
/// .local/share/containers; and any directory holding one of those, the
/// work root or a home. Inside the work root only this job's dir, and
/// <root>/cache read-only (unless CACHE_READ_ONLY is false); with the hysds
/// layout, also jobs/, tasks/ and workers/. Below a home, and any directory
/// holding the worker's config files or its executable: read-only. Then
/// WORKER_MOUNT_BLACKLIST (its entries resolved the same way). The rules
/// also hold for another name of a file or directory they name (a bind
/// mount, a hard link: the same device and inode), and a socket, a device
/// or a FIFO is never reached.
class HostAccess {
 public:
  /// `config_files`: the worker's files a job may read but never write
  /// (its datasets.json and worker config); `lookup`: the worker's
  /// environment. Fails when the work root or the job dir cannot be resolved.
  static Status Make(const std::filesystem::path& root_work_dir,
                     const std::filesystem::path& job_dir,
                     const std::vector<std::string>& config_files,
                     const ContainerSettings& settings, const EnvLookup& lookup, HostAccess* out);

  /// OK when the job's container may see the resolved host path `path`
  /// (read-write when `writable`); else Invalid, saying which rule refuses
  /// it and the setting that changes it, if any.
  Status Check(const std::string& path, bool writable) const;

 private:
  struct Entry {
    std::string path, what;
  };
  // Adds `path` (an absolute path; resolved when it exists) unless listed.
  static void Add(std::vector<Entry>* list, const std::string& path, std::string what);
  // The rules on one spelling of a path.
  Status CheckPath(const std::string& path, bool writable) const;
  std::string root_, job_dir_, cache_;
  std::vector<std::string> shared_dirs_;  // jobs, tasks, workers with the hysds layout
  bool cache_read_only_ = true;
  std::vector<Entry> never_;      // nor anything below, nor any dir holding one
  std::vector<Entry> holders_;    // no dir holding one (nor the entry itself)
  std::vector<Entry> homes_;      // below them: read-only
  std::vector<Entry> read_only_;  // a dir holding one: read-only
  std::vector<Entry> blacklist_;  // WORKER_MOUNT_BLACKLIST
  // (device, inode) -> the path a rule names it by, for every path above
  // and every directory above one.
  std::map<std::pair<dev_t, ino_t>, std::string> known_;
};

}  // namespace verdi
