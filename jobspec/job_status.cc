#include "jobspec/job_status.h"

namespace verdi {

std::string SignalStatus(int signum) {
  switch (signum) {
    case 1: return "job-hangup";
    case 2: return "job-interrupted";
    case 3: return "job-quit";
    case 6: return "job-aborted";
    case 9: return "job-killed";
    case 15: return "job-terminated";
    default: return "job-sig-" + std::to_string(signum);
  }
}

std::string ShortError(const std::string& error) {
  if (error.size() <= 35) return error;
  return error.substr(0, 20) + "....." + error.substr(error.size() - 10);
}

}  // namespace verdi
