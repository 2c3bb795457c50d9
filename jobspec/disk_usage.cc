#include "jobspec/disk_usage.h"

#include <cmath>

#include <fmt/format.h>

namespace verdi {

Status ParseDiskUsage(std::string_view text, const std::string& where, uint64_t* bytes) {
  auto reject = [&](std::string_view why) {
    return Status::Invalid(fmt::format(
        "{}: expected a size such as \"10GB\" (a number then KB, MB, GB or TB), got \"{}\"{}", where,
        text, why));
  };
  if (text.size() < 3) return reject("");
  std::string_view unit = text.substr(text.size() - 2);
  std::string_view number = text.substr(0, text.size() - 2);
  int power;
  if (unit == "KB") {
    power = 1;
  } else if (unit == "MB") {
    power = 2;
  } else if (unit == "GB") {
    power = 3;
  } else if (unit == "TB") {
    power = 4;
  } else {
    return reject(": unknown unit");
  }
  // digits [ "." digits ]
  double whole = 0;
  double fraction = 0, scale = 1;
  bool seen_dot = false, seen_digit = false;
  for (char c : number) {
    if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_dot) {
        scale /= 10;
        fraction += (c - '0') * scale;
      } else {
        whole = whole * 10 + (c - '0');
      }
    } else if (c == '.' && !seen_dot && seen_digit) {
      seen_dot = true;
    } else {
      return reject("");
    }
  }
  if (!seen_digit || number.back() == '.') return reject("");
  double value = (whole + fraction) * std::pow(1024.0, power);
  if (value >= 18446744073709551616.0) return reject(": too large");
  *bytes = static_cast<uint64_t>(std::ceil(value));
  return Status::OK();
}

}  // namespace verdi
