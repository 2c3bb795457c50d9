#include "jobspec/uuid.h"

#include <cstdint>
#include <random>

#include <fmt/format.h>
#include <sys/random.h>

namespace verdi {

std::string NewUuid4() {
  uint8_t b[16];
  if (getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    std::random_device rd;  // getrandom cannot fail for 16 bytes; keep a fallback anyway
    for (auto& byte : b) byte = static_cast<uint8_t>(rd());
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // variant 10
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

}  // namespace verdi
