#include "jobspec/disk_usage.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

namespace verdi {

Status ParseDiskUsage(std::string_view text, const std::string& where, uint64_t* bytes) {
  auto reject = [&](std::string_view why) {
    return Status::Invalid(fmt::format(
        "{}: expected a size such as \"10GB\" (a number then KB, MB, GB or TB), got \"{}\"{}",
        where, text, why));
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
  bool seen_dot = false, seen_digit = false;
  for (char c : number) {
    if (c >= '0' && c <= '9') {
      seen_digit = true;
    } else if (c == '.' && !seen_dot && seen_digit) {
      seen_dot = true;
    } else {
      return reject("");
    }
  }
  if (!seen_digit || number.back() == '.') return reject("");
  // from_chars rounds correctly, so "0.75" is exactly 0.75 and scaling by a
  // power of 1024 stays exact (summing digit * 0.1^k did not: 0.75KB gave 769).
  double parsed = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), parsed);
  if (ec != std::errc() || end != number.data() + number.size()) return reject("");
  double value = parsed * std::pow(1024.0, power);
  if (value >= 18446744073709551616.0) return reject(": too large");
  *bytes = static_cast<uint64_t>(std::ceil(value));
  return Status::OK();
}

}  // namespace verdi
