// Builds small ONNX models in memory for importer, planner and session tests, so each test states
// its graph next to its expectations.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "softdpu/tensor.h"

namespace softdpu::testing {

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 17);

  // dims: -1 for a symbolic dimension (named "batch" when first, "d<i>" otherwise).
  ModelBuilder& input(const std::string& name, DType t, const Shape& dims);
  ModelBuilder& output(const std::string& name, DType t, const Shape& dims);
  ModelBuilder& initializer(const std::string& name, const Tensor& value);
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "");

  static void set_int(onnx::NodeProto& n, const std::string& key, int64_t v);
  static void set_float(onnx::NodeProto& n, const std::string& key, float v);
  static void set_ints(onnx::NodeProto& n, const std::string& key, const std::vector<int64_t>& v);

  onnx::ModelProto& proto() { return model_; }
  std::string bytes() const;

 private:
  onnx::ModelProto model_;
};

}  // namespace softdpu::testing
