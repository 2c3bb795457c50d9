#include "base/status.h"

#include <cstring>

namespace verdi {

Status Status::IOError(const std::string& what, int err) {
  return Status(kIOError, what + ": " + std::strerror(err));
}

Status Status::WithPrefix(const std::string& prefix) const {
  if (ok()) return *this;
  return Status(code_, prefix + ": " + message_);
}

}  // namespace verdi
