// softdpu Status <-> gRPC status for the gRPC front end (docs/serving-grpc.md, "Status mapping").
// Messages pass through unchanged so that gRPC and REST clients read the same text.
#pragma once

#include <grpcpp/support/status.h>

#include "softdpu/status.h"

namespace softdpu::server {

grpc::StatusCode grpc_code_for(StatusCode code);
grpc::Status to_grpc_status(const Status& st);

}  // namespace softdpu::server
