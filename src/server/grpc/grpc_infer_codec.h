// ModelInferRequest / ModelInferResponse (the generated protobuf messages) <-> the serving core's
// InferRequest / InferResponse. Only what gRPC itself can get wrong is checked here (raw vs typed
// contents, the number of raw entries, typed values vs the shape, parameter types); whether the
// tensors fit the model (names, datatypes, shapes, byte sizes) is the core's check, shared with
// the REST front end so both transports answer bad input with the same words.
#pragma once

#include "grpc_predict_v2.pb.h"
#include "server/inference_server.h"
#include "softdpu/status.h"

namespace softdpu::server {

// Fills *out from `in`. Typed contents (InferTensorContents) are converted to the raw
// little-endian layout; BYTES elements become 4-byte little-endian length + bytes, the layout of
// raw_input_contents and of the REST binary extension. raw_input_contents are moved out of `in`,
// not copied (the rest of `in`, names and id included, stays as it was).
Status decode_infer_request(inference::ModelInferRequest* in, InferRequest* out);

// Moves the response into *out, every output in raw_output_contents (what tritonclient reads).
void encode_infer_response(InferResponse&& in, inference::ModelInferResponse* out);

}  // namespace softdpu::server
