#include "verdi/container/container_settings.h"

namespace verdi {

bool ParseMountLayout(const std::string& text, MountLayout* out) {
  if (text == "job") {
    *out = MountLayout::kJob;
  } else if (text == "hysds") {
    *out = MountLayout::kHysds;
  } else {
    return false;
  }
  return true;
}

const char* MountLayoutName(MountLayout layout) {
  return layout == MountLayout::kHysds ? "hysds" : "job";
}

}  // namespace verdi
