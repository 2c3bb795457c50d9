#include "jobspec/job_id.h"

#include <fmt/format.h>

namespace verdi {

Status ValidateJobId(std::string_view id, const std::string& where) {
  auto reject = [&](std::string_view why) {
    return Status::Invalid(
        fmt::format("{}: {} (a job id names a directory under the work root)", where, why));
  };
  if (id.empty()) return reject("is empty");
  if (id.size() > 255)
    return reject(fmt::format("is {} bytes long, at most 255 allowed", id.size()));
  if (id == "." || id == "..") return reject(fmt::format("\"{}\" is not a usable name", id));
  for (size_t i = 0; i < id.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(id[i]);
    if (c == '/') return reject(fmt::format("contains '/' at byte {}", i));
    if (c < 0x20 || c == 0x7f)
      return reject(fmt::format("contains control character 0x{:02x} at byte {}", c, i));
  }
  return Status::OK();
}

}  // namespace verdi
