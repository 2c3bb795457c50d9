#include "verdi/amqp/outbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace verdi {

Outbox::Outbox() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Outbox::~Outbox() {
  if (fd_ >= 0) close(fd_);
}

void Outbox::Push(BrokerAction action) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    actions_.push_back(std::move(action));
  }
  uint64_t one = 1;
  ssize_t n = write(fd_, &one, sizeof one);
  (void)n;  // an eventfd counter does not overflow at this rate
}

std::vector<BrokerAction> Outbox::TakeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t count;
  ssize_t n = read(fd_, &count, sizeof count);  // reset the counter
  (void)n;
  return std::exchange(actions_, {});
}

}  // namespace verdi
