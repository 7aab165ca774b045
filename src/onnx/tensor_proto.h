// ONNX TensorProto <-> Tensor, shared by the importer (initializers, Constant attributes) and the
// conformance runner (test_data_set_*/input_*.pb).
#pragma once

#include <string>

#include "softdpu/tensor.h"

namespace onnx {
class TensorProto;
}

namespace softdpu::onnx_io {

// Converts one TensorProto (raw_data, typed fields, or external data resolved against base_dir).
// Throws Error(kInvalidModel) naming the tensor when its data is short, its type unsupported
// (strings), or its external file missing.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir);

// Reads a serialized TensorProto file (*.pb); `name_out` receives the proto's name if non-null.
Tensor load_tensor_pb(const std::string& path, std::string* name_out = nullptr);

}  // namespace softdpu::onnx_io
