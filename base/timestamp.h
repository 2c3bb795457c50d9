// Timestamps as HySDS writes them.
#pragma once

#include <chrono>
#include <string>

namespace verdi {

using WallClock = std::chrono::system_clock;

/// Naive UTC ISO 8601 with microseconds and a literal Z:
/// "2024-01-01T00:00:00.000000Z".
std::string IsoUtc(WallClock::time_point t);

/// Seconds between two instants, as a float (cmd_duration, duration).
double SecondsBetween(WallClock::time_point from, WallClock::time_point to);

}  // namespace verdi
