#include "verdi/celery/event_publisher.h"

namespace verdi {

void EventPublisher::Send(const std::string& type, Json fields) {
  if (!task_events_ && type.rfind("task-", 0) == 0) return;
  Json event = CeleryEvent(type, sender_, clock_.Forward(), WallClock::now(), std::move(fields));
  AmqpOutgoing message;
  message.body = event.dump(-1, ' ', false, Json::error_handler_t::replace);
  message.content_type = "application/json";
  message.content_encoding = "utf-8";
  message.delivery_mode = 1;
  message.headers = {{"hostname", sender_.hostname}};
  BrokerAction action =
      BrokerAction::Publish(kEventExchange, EventRoutingKey(type), std::move(message));
  action.quiet = true;  // monitoring events are not worth a log line each when dropped
  outbox_->Push(std::move(action));
}

}  // namespace verdi
