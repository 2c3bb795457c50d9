// kombu's Queue and Exchange as a celeryconfig.py builds them for
// `task_queues`, for the reader of python_config.h: stand-ins that keep the
// arguments given, which worker_queues.h reads.
#pragma once

#include <string>

#include "verdi/cli/python_call.h"
#include "verdi/cli/python_tokens.h"
#include "verdi/cli/python_value.h"

namespace verdi {

/// kombu.Queue(...) or kombu.Exchange(...) (`kind` "Queue" or "Exchange")
/// called at `at`: {"__kombu__": kind, ...} with the arguments given by
/// name, positional ones under their parameters' names (Queue: name,
/// exchange, routing_key, channel, bindings, on_declared; Exchange: name,
/// type, channel). Raised: a TypeError for too many or repeated arguments.
PyValue KombuEntity(const std::string& kind, const PyArgs& args, const PyToken& at);

}  // namespace verdi
