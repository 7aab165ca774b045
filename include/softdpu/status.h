// Status and error types shared by the public API and the internals.
//
// Plan-time code (import, passes, planning) reports problems by throwing softdpu::Error; the public
// Session API catches it at the boundary and hands back a Status. The run path never throws: every
// check it would need is done once at plan time.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace softdpu {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong (shape, dtype, name, flag)
  kInvalidModel,     // the model file is malformed or inconsistent
  kUnsupported,      // valid, but softdpu does not implement it (op, attribute, dtype)
  kNeedsConstant,    // a value must be known at plan time (static shapes), and is not
  kNotFound,         // a file, model, input or output name does not exist
  kIoError,          // reading or writing a file failed
  kInternal,         // a bug in softdpu
  // Serving (src/server/): transports map these to HTTP 503 / 504 / 413 and gRPC UNAVAILABLE /
  // DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED.
  kUnavailable,       // not ready, shutting down, or a bounded queue is full: retry later
  kDeadlineExceeded,  // the request's timeout passed before it ran
  kTooLarge,          // a request or a tensor is over a configured size limit
};

const char* status_code_name(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Thrown by plan-time code. `subject` names what the message is about (a value name for
// kNeedsConstant, so callers such as the conformance runner can react to it).
class Error : public std::runtime_error {
 public:
  Error(StatusCode code, const std::string& message, std::string subject = {})
      : std::runtime_error(message), code_(code), subject_(std::move(subject)) {}
  StatusCode code() const { return code_; }
  const std::string& subject() const { return subject_; }
  Status status() const { return {code_, what()}; }

 private:
  StatusCode code_;
  std::string subject_;
};

}  // namespace softdpu
