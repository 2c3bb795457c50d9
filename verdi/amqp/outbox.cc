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
  if (connection != declared_on_) {
    declared_.clear();
    declared_on_ = connection;
  }
  std::vector<BrokerAction> kept;
  for (auto& action : TakeAll()) {
    bool publish = action.kind == BrokerAction::Kind::kPublish;
    if (!link->connected()) {
      if (publish && action.retain) {
        kept.push_back(std::move(action));
      } else if (!action.quiet) {
        LogWarning("broker connection lost: {} dropped", Describe(action));
      }
      continue;
    }
    if (!publish && action.connection != connection) continue;
    if (publish && !action.declare_queue.empty() && declared_.count(action.declare_queue) == 0) {
      bool passive = false;
      Status st = link->DeclareQueue({action.declare_queue, action.declare_arguments}, &passive);
      if (st.ok())
        declared_.insert(action.declare_queue);
      else
        LogWarning("broker: declaring queue {} failed: {}", action.declare_queue, st.message());
    }
    Status st = Perform(link, action);
    if (st.ok() && action.on_sent) action.on_sent();
    if (!st.ok()) {
      LogWarning("broker: {} failed: {}", Describe(action), st.message());
      // Lost with the connection: sent again on the next one.
      if (publish && action.retain && !link->connected()) kept.push_back(std::move(action));
    }
  }
  if (kept.size() > kept_logged_)
    LogWarning("broker connection lost: {} publishes kept for the next connection", kept.size());
  kept_logged_ = kept.size();
  if (kept.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  // Before anything pushed meanwhile: the order is kept.
  actions_.insert(actions_.begin(), std::make_move_iterator(kept.begin()),
                  std::make_move_iterator(kept.end()));
}

size_t Outbox::retained() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& action : actions_)
    if (action.kind == BrokerAction::Kind::kPublish && action.retain) ++n;
  return n;
}

}  // namespace verdi
