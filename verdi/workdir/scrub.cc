#include "verdi/workdir/scrub.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

using u128 = unsigned __int128;

int ClampToInt(u128 v) { return v > static_cast<u128>(INT_MAX) ? INT_MAX : static_cast<int>(v); }

// ceil(100 * part / whole), whole > 0, without overflow.
int CeilPercent(uint64_t part, uint64_t whole) {
  u128 scaled = static_cast<u128>(part) * 100;
  return ClampToInt((scaled + whole - 1) / whole);
}

// "512 B", "1.0 KiB", "2.5 GiB", ..., up to TiB.
std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

// The scrubber's goal: more than the threshold percent of the file system
// free.
class FreeSpace : public ReclaimGoal {
 public:
  FreeSpace(Machine* machine, fs::path root, std::optional<uint64_t> disk_usage)
      : machine_(machine), root_(std::move(root)), disk_usage_(disk_usage) {}

  Status Measure() {
    VERDI_RETURN_IF_ERROR(machine_->GetDiskSpace(root_.string(), &space_)
                              .WithPrefix("measuring free disk space under " + root_.string()));
    percent_free_ = PercentFree(space_);
    threshold_ = ThresholdPercent(disk_usage_, space_.capacity_bytes);
    return Status::OK();
  }

  bool Met() const override { return percent_free_ > threshold_; }
  bool Reachable(uint64_t bytes) const override {
    uint64_t free = space_.free_bytes + std::min(bytes, space_.capacity_bytes - space_.free_bytes);
    return PercentFree({free, space_.capacity_bytes}) > threshold_;
  }
  Status Removed(uint64_t) override { return Measure(); }

  std::string Figures() const override {
    u128 needed =
        static_cast<u128>(space_.capacity_bytes) * static_cast<unsigned>(threshold_) / 100;
    uint64_t needed64 = needed > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(needed);
    return fmt::format("{}% free ({} of {}), a job needs more than {}% ({})", percent_free_,
                       HumanBytes(space_.free_bytes), HumanBytes(space_.capacity_bytes), threshold_,
                       HumanBytes(needed64));
  }

 private:
  Machine* machine_;
  fs::path root_;
  std::optional<uint64_t> disk_usage_;
  DiskSpace space_;
  int percent_free_ = 0;
  int threshold_ = 0;
};

}  // namespace

int PercentFree(const DiskSpace& space) {
  if (space.capacity_bytes == 0) return 0;
  return CeilPercent(space.free_bytes, space.capacity_bytes);
}

int ThresholdPercent(std::optional<uint64_t> disk_usage_bytes, uint64_t capacity_bytes) {
  if (!disk_usage_bytes) return 10;
  if (capacity_bytes == 0) return 100;
  return CeilPercent(*disk_usage_bytes, capacity_bytes);
}

Status EnsureFreeSpace(Machine* machine, const std::filesystem::path& root,
                       std::optional<uint64_t> disk_usage_bytes, const ScrubOptions& options) {
  FreeSpace goal(machine, root, disk_usage_bytes);
  VERDI_RETURN_IF_ERROR(goal.Measure());
  if (goal.Met()) return Status::OK();
  ReclaimOrder order;
  order.who = "scrub";
  order.evict_cache = options.evict_cache;
  int removed = 0;
  Status st = Reclaim(root, order, &goal, &removed);
  if (st.ok()) return st;
  return Status::Failed("not enough free disk space under " + root.string() + ": " + st.message());
}

}  // namespace verdi
