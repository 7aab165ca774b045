// KServe v2 REST infer bodies <-> InferRequest / InferResponse: JSON tensors ("data" arrays, nested
// or flat) and the binary tensor extension (a JSON header of Inference-Header-Content-Length
// bytes, then each binary tensor's raw little-endian bytes in order).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/inference_server.h"

namespace softdpu::server {

// How the response's outputs are to be encoded, remembered from the request.
struct ResponseFormat {
  bool all_binary = false;                  // parameters.binary_data_output
  std::vector<std::string> binary_outputs;  // outputs[i].parameters.binary_data
  bool binary(const std::string& output) const;
};

// `header_length` is the Inference-Header-Content-Length value, or -1 when the header is absent.
// Errors are kInvalidArgument naming what is wrong (JSON position, input, expected vs got).
Status decode_infer_request(std::string_view body, int64_t header_length, InferRequest* out,
                            ResponseFormat* format);

// Appends the response body to *body. *header_length is set to the JSON header's length when
// any output went binary (the HTTP layer sends Inference-Header-Content-Length), else -1.
void encode_infer_response(const InferResponse& r, const ResponseFormat& format, std::string* body,
                           int64_t* header_length);

// {"error": "<message>"} with the message JSON-escaped.
std::string error_json(const std::string& message);

}  // namespace softdpu::server
