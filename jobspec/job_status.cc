#include "jobspec/job_status.h"

#include <vector>

namespace verdi {

std::string SignalStatus(int signum) {
  switch (signum) {
    case 1:
      return "job-hangup";
    case 2:
      return "job-interrupted";
    case 3:
      return "job-quit";
    case 6:
      return "job-aborted";
    case 9:
      return "job-killed";
    case 15:
      return "job-terminated";
    default:
      return "job-sig-" + std::to_string(signum);
  }
}

std::string RevokedError(int signum) {
  return "Job was revoked with signal " + std::to_string(signum) + ".";
}

std::string ShortError(const std::string& error) {
  // Counted in characters (UTF-8 code points) as Python does: cutting bytes
  // could split a character and make the document invalid UTF-8.
  std::vector<size_t> starts;
  for (size_t i = 0; i < error.size(); ++i)
    if ((static_cast<unsigned char>(error[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() <= 35) return error;
  return error.substr(0, starts[20]) + "....." + error.substr(starts[starts.size() - 10]);
}

}  // namespace verdi
