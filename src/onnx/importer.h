// ONNX ModelProto -> ir::Graph. Checks structure (types, names, op support, topology) and reports
// the first problem with the node or value it concerns.
#pragma once

#include <string>

#include "ir/graph.h"

namespace softdpu::onnx_io {

// Reads path; external-data tensors are looked up beside it.
ir::Graph import_model_file(const std::string& path);
ir::Graph import_model_bytes(const std::string& bytes, const std::string& base_dir);

}  // namespace softdpu::onnx_io
