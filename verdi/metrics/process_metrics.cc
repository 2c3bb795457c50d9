#include "verdi/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace verdi {
namespace {

// Fields of /proc/self/stat after the command name: utime (14), stime (15),
// starttime (22), vsize (23), rss (24), counted from 1.
struct ProcStat {
  double utime_ticks = 0, stime_ticks = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
};

bool ReadProcStat(ProcStat* out) {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  for (int i = 3; fields >> field; ++i) {
    double v = std::strtod(field.c_str(), nullptr);
    if (i == 14) out->utime_ticks = v;
    if (i == 15) out->stime_ticks = v;
    if (i == 22) out->start_ticks = v;
    if (i == 23) out->vsize = v;
    if (i == 24) {
      out->rss_pages = v;
      return true;
    }
  }
  return false;
}

// The boot time in seconds since the epoch (btime in /proc/stat).
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double n = 0;
  while (dirent* e = readdir(dir))
    if (e->d_name[0] != '.') ++n;
  closedir(dir);
  return n - 1;  // the directory stream's own fd
}

}  // namespace

void AddProcessMetrics(MetricsRegistry* registry, const std::string& prefix,
                       const std::string& version) {
  Metric* cpu = registry->AddCounter("process_cpu_seconds_total",
                                     "Total user and system CPU time spent in seconds.");
  Metric* resident =
      registry->AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  Metric* virtual_memory =
      registry->AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  Metric* open_fds = registry->AddGauge("process_open_fds", "Number of open file descriptors.");
  Metric* max_fds =
      registry->AddGauge("process_max_fds", "Maximum number of open file descriptors.");
  Metric* start = registry->AddGauge("process_start_time_seconds",
                                     "Start time of the process since unix epoch in seconds.");
  Metric* build = registry->AddGauge(prefix + "_build_info",
                                     "Always 1, labelled with the version of the running build.");
  build->Set(1, {{"version", version}});

  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double boot = BootTime();
  registry->AddCollector([=, seen = 0.0]() mutable {
    ProcStat st;
    if (ReadProcStat(&st)) {
      // A counter only moves up: Add the growth since the last scrape.
      double total = (st.utime_ticks + st.stime_ticks) / ticks;
      if (total > seen) cpu->Add(total - seen);
      seen = std::max(seen, total);
      resident->Set(st.rss_pages * page);
      virtual_memory->Set(st.vsize);
      start->Set(boot + st.start_ticks / ticks);
    }
    open_fds->Set(OpenFds());
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) max_fds->Set(static_cast<double>(limit.rlim_cur));
  });
}

}  // namespace verdi
