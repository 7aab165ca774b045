// The JSON header of a REST binary-extension request, the common case through simdjson's On-Demand
// API (0.4 us) rather than nlohmann's DOM: nlohmann's DOM parse of the ~200-byte header of a
// batch-1 request (a node and a string allocated per value, then walked and freed) cost 2.7 us of
// the server's ~30 us CPU per MLP request (docs/serving.md, "Server CPU per request").
#pragma once

#include <string_view>

#include "server/http_infer_codec.h"

namespace softdpu::server {

// Decodes a header whose every input is binary (binary_data_size) and which uses only "id",
// "inputs" (name, datatype, shape, parameters.binary_data_size) and "outputs" (name,
// parameters.binary_data), each key once. Returns true with *out and
// *format filled exactly as decode_infer_request's general path would fill them; returns false,
// leaving id, inputs, outputs and *format cleared, for anything else, valid or not: the general
// path then decodes it or words the error.
bool decode_binary_header(std::string_view header, std::string_view binary, InferRequest* out,
                          ResponseFormat* format);

}  // namespace softdpu::server
