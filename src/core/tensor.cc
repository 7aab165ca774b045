#include "softdpu/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>

#include "softdpu/status.h"

namespace softdpu {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_to_string(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

namespace {
std::shared_ptr<uint8_t> aligned_buffer(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;  // every tensor gets a valid pointer, even with no elements
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  for (int64_t d : shape_) {
    if (d < 0)
      throw Error(StatusCode::kInvalidArgument,
                  "tensor shape " + shape_to_string(shape_) + " has a negative dimension");
  }
  if (dtype_ == DType::kString) {
    // Strings only exist at plan time (see dtype.h); they are real objects, not bytes.
    auto* s = new std::string[std::max<int64_t>(numel(), 1)];
    data_ = std::shared_ptr<uint8_t>(reinterpret_cast<uint8_t*>(s), [](uint8_t* p) {
      delete[] reinterpret_cast<std::string*>(p);
    });
    return;
  }
  data_ = aligned_buffer(nbytes());
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel()) {
    throw Error(StatusCode::kInvalidArgument,
                "cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (dtype_ == DType::kString) {
    std::copy_n(data_as<std::string>(), numel(), t.data_as<std::string>());
  } else if (nbytes()) {
    std::memcpy(t.data(), data(), nbytes());
  }
  return t;
}

}  // namespace softdpu
