#include "server/grpc/grpc_status.h"

namespace softdpu::server {

grpc::StatusCode grpc_code_for(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kTooLarge: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kUnsupported: return grpc::StatusCode::UNIMPLEMENTED;
    default:
      // kInvalidModel, kNeedsConstant, kIoError, kInternal: the server's problem, not the call's.
      return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status to_grpc_status(const Status& st) {
  if (st.is_ok()) return grpc::Status::OK;
  return grpc::Status(grpc_code_for(st.code()), st.message());
}

}  // namespace softdpu::server
