// The seam between verdi and what tests must control: the wall clock and the
// capacity of the file system. Processes and files are used for real.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/timestamp.h"

namespace verdi {

/// Free and total bytes of a file system, as statvfs reports them for a
/// non-root user (f_bavail, f_blocks, both times f_frsize).
struct DiskSpace {
  uint64_t free_bytes = 0;
  uint64_t capacity_bytes = 0;
};

/// Everything verdi asks of the machine that a test may want to fake.
/// Implementations must be thread-safe.
class Machine {
 public:
  virtual ~Machine() = default;
  virtual WallClock::time_point Now() = 0;
  virtual Status GetDiskSpace(const std::string& path, DiskSpace* out) = 0;

  /// The real machine. Never deleted.
  static Machine* Default();
};

}  // namespace verdi
