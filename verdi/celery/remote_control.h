// Celery remote control (the pidbox: commands and replies as Celery's
// `control` and `inspect` send and expect them) as pure logic:
// given a decoded command and a snapshot of the worker, decide whether this
// node is addressed, what to reply and what the worker must then do. No I/O:
// the worker declares, consumes, publishes and performs the effects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobspec/json_field.h"
#include "verdi/amqp/url.h"
#include "verdi/celery/revoked_set.h"

namespace verdi {

inline constexpr const char* kPidboxExchange = "celery.pidbox";
inline constexpr const char* kReplyExchange = "reply.celery.pidbox";

/// The pidbox queue of a node: "<nodename>.celery.pidbox".
std::string PidboxQueueName(const std::string& nodename);

/// One task the worker holds, as Celery's Request.info() describes it.
struct ControlTask {
  std::string id, name;
  Json args = Json::array(), kwargs = Json::object();
  /// UNIX seconds when the job started; absent for tasks not started yet.
  std::optional<double> time_start;
  bool acknowledged = false;
  std::string exchange, routing_key;
  int priority = 0;
  bool redelivered = false;
  int worker_pid = 0;
  /// ISO-8601 ETA of a scheduled task ("" when none).
  std::string eta;
};

/// A queue the worker consumes, for active_queues.
struct ControlQueue {
  std::string name;
  Json arguments = Json::object();
};

/// The most job slots a worker may have (-c, --autoscale, pool_grow).
inline constexpr int kMaxJobSlots = 1024;

/// Celery's --autoscale MAX,MIN as the worker has it now.
struct AutoscaleRange {
  int max = 1, min = 0;
};

/// What the commands report about the worker, taken when a command arrives.
struct WorkerSnapshot {
  std::string nodename;
  int pid = 0;
  int64_t uptime_seconds = 0;
  int64_t processed = 0;  // tasks accepted, all run_job
  /// The pool's size: how many jobs may run at once now (-c, moved by
  /// pool_grow and pool_shrink; with autoscale, where the autoscaler put it).
  int concurrency = 1;
  /// With --autoscale: its range (the pool is sized within it).
  std::optional<AutoscaleRange> autoscale;
  /// Jobs queued for a slot or running (the autoscaler's `qty`).
  int64_t busy = 0;
  int prefetch_count = 0;
  int64_t clock = 0;
  bool task_events = true;
  /// kombu's Connection.info() without the password.
  Json broker = Json::object();
  /// getrusage() as Celery reports it (see CurrentRusage), or "N/A".
  Json rusage = "N/A";
  /// A few settings for `conf`.
  Json conf = Json::object();
  std::vector<ControlTask> active, reserved, scheduled;
  std::vector<RevokedEntry> revoked;
  std::vector<ControlQueue> queues;
};

/// What the worker must do after a command.
struct ControlEffects {
  /// Ids to add to the revoked set (revoke, terminate, and the ones another
  /// worker's mingle `hello` brings).
  std::vector<std::string> revoke;
  /// Signal the running jobs of `revoke` with this signal (0: none).
  int terminate_signal = 0;
  bool shutdown = false;
  bool heartbeat = false;
  std::optional<bool> task_events;
  std::string add_consumer, cancel_consumer;
  /// pool_grow, pool_shrink: the pool's new size.
  std::optional<int> pool_size;
  /// autoscale: the new range.
  std::optional<AutoscaleRange> autoscale;
};

struct ControlDecision {
  /// False: the command is for other nodes; nothing is done or sent.
  bool addressed = false;
  /// True when a reply must be published: body {nodename: reply}.
  bool reply = false;
  Json reply_body;
  ControlEffects effects;
};

/// Node.handle_message: `destination` (non-empty list) names this node, or
/// `pattern` matches it with `matcher` ("glob", the default, or "pcre"), or
/// neither is given.
bool IsAddressed(const Json& body, const std::string& nodename);

/// fnmatch-style glob: *, ?, [set], [!set].
bool GlobMatch(const std::string& pattern, const std::string& text);

/// Decides what to do with one command body ({method, arguments,
/// destination, pattern, matcher, ticket, reply_to}). A reply is wanted
/// when reply_to is present and the command gives one (shutdown and hello
/// from this node do not; heartbeat's is null, as a Python worker's). Every
/// reply has the types a Python worker's has; `hello` (mingle) answers
/// {revoked: {id: [float revoked_at, id]}, clock} and takes the sender's
/// revoked ids. pool_grow, pool_shrink and autoscale answer as Celery 5's
/// worker does and say the pool's new size or range in the effects; each
/// other command of Celery's worker that verdi does not carry out
/// (pool_restart, memsample, memdump, objgraph, election) gets an error
/// reply saying why, an unknown one Python's KeyError.
ControlDecision HandleControl(const Json& body, const WorkerSnapshot& worker);

/// Celery's signals.signum: an integer, or an uppercase name with or
/// without "SIG". Invalid with the Python exception repr to reply with, e.g.
/// "TypeError('signal name must be uppercase string.')".
Status ParseSignal(const Json& value, int* signum);

/// getrusage(RUSAGE_SELF) as Celery's stats reports it (utime, stime,
/// maxrss, ...). The one helper here that reads the system.
Json CurrentRusage();

/// kombu's Connection.info() for the broker `url`, without the password.
Json BrokerInfo(const AmqpUrl& url);

}  // namespace verdi
