// The one error type of the project: OK, or a code and a message that says
// what was wrong and where.
#pragma once

#include <string>
#include <utility>

namespace verdi {

/// Result of an operation that can fail. Cheap when OK.
///
/// Codes:
/// - kInvalid: the input (a job, a config, a URL, a flag) is wrong. The
///   message names where, e.g. "job.params.x: expected a string, got 42".
/// - kIOError: the system refused (a file, a directory, a process).
/// - kNotFound: what was asked for does not exist (an HTTP 404, a missing
///   file or object), so a caller may treat it as "absent".
/// - kFailed: anything else that stops the work (not enough disk, ...).
class Status {
 public:
  Status() = default;
  static Status OK() { return Status(); }
  static Status Invalid(std::string message) { return Status(kInvalid, std::move(message)); }
  static Status Failed(std::string message) { return Status(kFailed, std::move(message)); }
  static Status NotFound(std::string message) { return Status(kNotFound, std::move(message)); }
  /// "<what>: <strerror(err)>".
  static Status IOError(const std::string& what, int err);

  bool ok() const { return code_ == kOk; }
  bool IsInvalid() const { return code_ == kInvalid; }
  bool IsIOError() const { return code_ == kIOError; }
  bool IsNotFound() const { return code_ == kNotFound; }
  const std::string& message() const { return message_; }

  /// The same status with "<prefix>: " before its message.
  Status WithPrefix(const std::string& prefix) const;

 private:
  enum Code { kOk, kInvalid, kIOError, kNotFound, kFailed };
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = kOk;
  std::string message_;
};

}  // namespace verdi

/// Returns from the calling function when `expr` is not OK.
#define VERDI_RETURN_IF_ERROR(expr) \
  do {                              \
    ::verdi::Status _st = (expr);   \
    if (!_st.ok()) return _st;      \
  } while (0)
