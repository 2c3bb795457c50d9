// Random (version 4) UUIDs, as Celery uses for task ids.
#pragma once

#include <string>

namespace verdi {

/// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" from the kernel's random source.
std::string NewUuid4();

}  // namespace verdi
