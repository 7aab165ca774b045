// Tensors: an owning Tensor for plan-time data (weights, constants, test inputs) and the
// non-owning views the run path works on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "softdpu/dtype.h"

namespace softdpu {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);
std::string shape_to_string(const Shape& s);  // "[1, 3, 224, 224]"

// Owning, 64-byte aligned, reference-counted storage (copies share the buffer).
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape);  // zero-filled

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool empty() const { return !data_; }

  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  template <typename T>
  T* data_as() {
    return static_cast<T*>(data());
  }
  template <typename T>
  const T* data_as() const {
    return static_cast<const T*>(data());
  }

  // Same storage seen with another shape of the same element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy.
  Tensor clone() const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<uint8_t> data_;
};

// A caller-owned buffer handed to Session::run.
struct TensorView {
  DType dtype = DType::kUndefined;
  Shape shape;
  void* data = nullptr;
};

struct ConstTensorView {
  DType dtype = DType::kUndefined;
  Shape shape;
  const void* data = nullptr;
};

}  // namespace softdpu
