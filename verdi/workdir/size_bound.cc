#include "verdi/workdir/size_bound.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/dir_tree.h"
#include "base/log.h"
#include "verdi/workdir/job_dir_scan.h"
#include "verdi/workdir/reclaim.h"

namespace verdi {
namespace {

namespace fs = std::filesystem;

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

// The bound's goal: the root's size at most `max` bytes.
class SizeBound : public ReclaimGoal {
 public:
  SizeBound(const fs::path& root, uint64_t max) : max_(max), size_(TreeSize(root)) {}
  bool Met() const override { return size_ <= max_; }
  bool Reachable(uint64_t bytes) const override { return size_ - std::min(bytes, size_) <= max_; }
  Status Removed(uint64_t bytes) override {
    size_ -= std::min(bytes, size_);
    return Status::OK();
  }
  std::string Figures() const override {
    return fmt::format("holds {} bytes, {} --max-work-dir-size {}", size_,
                       size_ > max_ ? "more than" : "within", max_);
  }

 private:
  uint64_t max_, size_;
};

}  // namespace

Status BoundWorkRoot(const fs::path& root, const WorkRootBound& bound) {
  SizeBound goal(root, bound.max_bytes);
  ReclaimOrder order;
  order.who = "work root bound";
  order.successful_first = bound.keep_failed;
  order.by_close_time = true;
  order.all_or_nothing = false;
  order.evict_cache = bound.evict_cache;
  order.in_use = bound.in_use;
  int removed = 0;
  Status st = Reclaim(root, order, &goal, &removed);
  if (st.ok()) return st;
  return Status::Failed("work root " + root.string() + " " + st.message());
}

Status DeleteWorkRoot(const fs::path& root) {
  if (!IsRealDirectory(root)) return Status::OK();
  for (const fs::path& dir : JobDirsOldestFirst(root / "jobs"))
    if (Exists(dir / ".running") && !Exists(dir / ".done"))
      return Status::Failed("not deleting the work root " + root.string() + ": " + dir.string() +
                            " is still open (another worker's job?)");
  for (const char* sub : {"jobs", "tasks", "cache", "workers"})
    // What jobs left too: any depth and mode; a symlink removed, never followed.
    VERDI_RETURN_IF_ERROR(RemoveTree(root / sub));
  std::error_code ec;
  fs::remove(root, ec);  // only when empty
  if (ec && ec != std::errc::directory_not_empty)
    return Status::IOError("removing " + root.string(), ec.value());
  return Status::OK();
}

}  // namespace verdi
