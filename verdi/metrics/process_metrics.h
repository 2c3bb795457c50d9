// The standard process_* metrics every Prometheus client library exports
// (CPU seconds, resident and virtual memory, open and maximum fds, start
// time), read from /proc at each scrape, and `<prefix>_build_info`.
#pragma once

#include <string>

#include "verdi/metrics/registry.h"

namespace verdi {

/// Adds the process_* families to `registry` (refreshed at each Render) and
/// `<prefix>_build_info{version}` = 1.
void AddProcessMetrics(MetricsRegistry* registry, const std::string& prefix,
                       const std::string& version);

}  // namespace verdi
