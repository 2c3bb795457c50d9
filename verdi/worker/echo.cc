#include "verdi/worker/echo.h"

#include "verdi/amqp/table.h"

namespace verdi {

Json DescribeDelivery(const AmqpDelivery& d, const DecodeLimits& limits) {
  Json out = {{"delivery",
               {{"delivery_tag", d.delivery_tag},
                {"exchange", d.exchange},
                {"routing_key", d.routing_key},
                {"redelivered", d.redelivered},
                {"consumer_tag", d.consumer_tag}}},
              {"properties",
               {{"content_type", d.content_type},
                {"content_encoding", d.content_encoding},
                {"correlation_id", d.correlation_id},
                {"reply_to", d.reply_to},
                {"message_id", d.message_id},
                {"priority", d.priority}}},
              {"headers", d.headers}};
  auto compression = d.headers.find("compression");
  Json body;
  Status st =
      DecodeMessageBody(d.content_type, compression == d.headers.end() ? nullptr : &*compression,
                        d.body, limits, &body);
  if (st.ok()) {
    out["body"] = std::move(body);
  } else {
    constexpr size_t kRawLimit = 4096;
    out["body_error"] = st.message();
    out["body_raw"] = SanitizeUtf8(std::string_view(d.body).substr(0, kRawLimit));
    out["body_bytes"] = d.body.size();
  }
  return out;
}

}  // namespace verdi
