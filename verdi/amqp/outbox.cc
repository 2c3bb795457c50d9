#include "verdi/amqp/outbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"
#include "verdi/amqp/link.h"

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

namespace {

std::string Describe(const BrokerAction& action) {
  switch (action.kind) {
    case BrokerAction::Kind::kAck:
      return fmt::format("ack of delivery {}", action.delivery_tag);
    case BrokerAction::Kind::kReject:
      return fmt::format("reject of delivery {}", action.delivery_tag);
    case BrokerAction::Kind::kPublish:
      return "publish to " + action.routing_key;
  }
  return "?";
}

Status Perform(AmqpLink* link, const BrokerAction& action) {
  switch (action.kind) {
    case BrokerAction::Kind::kAck:
      return link->Ack(action.delivery_tag);
    case BrokerAction::Kind::kReject:
      return link->Reject(action.delivery_tag, action.requeue);
    case BrokerAction::Kind::kPublish:
      return link->Publish(action.exchange, action.routing_key, action.message);
  }
  return Status::OK();
}

}  // namespace

void Outbox::FlushTo(AmqpLink* link, uint64_t connection) {
  for (auto& action : TakeAll()) {
    if (!link->connected()) {
      if (!action.quiet) LogWarning("broker connection lost: {} dropped", Describe(action));
      continue;
    }
    if (action.kind != BrokerAction::Kind::kPublish && action.connection != connection) continue;
    Status st = Perform(link, action);
    if (!st.ok()) LogWarning("broker: {} failed: {}", Describe(action), st.message());
  }
}

}  // namespace verdi
