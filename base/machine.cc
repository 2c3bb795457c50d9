#include "base/machine.h"

#include <cerrno>

#include <sys/statvfs.h>

namespace verdi {
namespace {

class RealMachine : public Machine {
 public:
  WallClock::time_point Now() override { return WallClock::now(); }

  Status GetDiskSpace(const std::string& path, DiskSpace* out) override {
    struct statvfs st;
    if (statvfs(path.c_str(), &st) != 0) return Status::IOError("statvfs " + path, errno);
    out->free_bytes = static_cast<uint64_t>(st.f_frsize) * st.f_bavail;
    out->capacity_bytes = static_cast<uint64_t>(st.f_frsize) * st.f_blocks;
    return Status::OK();
  }
};

}  // namespace

Machine* Machine::Default() {
  static RealMachine* env = new RealMachine;
  return env;
}

}  // namespace verdi
