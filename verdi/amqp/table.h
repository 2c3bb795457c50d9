// AMQP field tables (message headers, queue arguments) to and from JSON.
#pragma once

#include <string>
#include <string_view>

#include <amqp.h>

#include "base/status.h"
#include "jobspec/json_field.h"

namespace verdi {

/// Owns the memory of tables built by JsonToAmqpTable (a librabbitmq pool).
/// Keep it alive until the table has been sent.
class AmqpPool {
 public:
  AmqpPool() { init_amqp_pool(&pool_, 4096); }
  ~AmqpPool() { empty_amqp_pool(&pool_); }
  AmqpPool(const AmqpPool&) = delete;
  AmqpPool& operator=(const AmqpPool&) = delete;
  amqp_pool_t* get() { return &pool_; }

 private:
  amqp_pool_t pool_;
};

/// Encodes a JSON object as a field table, as py-amqp encodes a dict:
/// string → S, bool → t, integer → I when it fits in 32 bits, else l,
/// double → d, null → V, array → A, object → F, binary → x.
/// Invalid (message starting with `path`, e.g. "headers.x") when `object`
/// is not an object, a key is longer than 255 bytes or an integer does not
/// fit in 64 signed bits.
Status JsonToAmqpTable(const Json& object, std::string_view path, amqp_pool_t* pool,
                       amqp_table_t* out);

/// Decodes a field table: S/x → string (invalid UTF-8 replaced by U+FFFD),
/// t → bool, b/B/s/u/I/i/l/L → integer (L read as signed, as py-amqp writes
/// it), f/d → double, D (decimal) → double, T → integer seconds, F → object,
/// A → array, V → null. A repeated key keeps its last value.
Json AmqpTableToJson(const amqp_table_t& table);

/// `bytes` as valid UTF-8: each byte that does not belong to a well-formed
/// sequence becomes U+FFFD, so the JSON can always be dumped.
std::string SanitizeUtf8(std::string_view bytes);

}  // namespace verdi
