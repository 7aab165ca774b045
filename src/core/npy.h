// NumPy .npy files: the interchange format for test vectors, calibration data and `softdpu run`
// inputs/outputs, so that anything produced by numpy (np.save) can be fed in and checked.
//
// Supported: format versions 1.0, 2.0 and 3.0; C order; little-endian (or byte-order free) dtypes
// '<f2' '<f4' '<f8' '|i1' '<i2' '<i4' '<i8' '|u1' '<u2' '<u4' '<u8' '|b1'.
// Not supported, each with its own error message: Fortran order, big-endian data, complex, string,
// object and structured dtypes.
#pragma once

#include <string>

#include "softdpu/tensor.h"

namespace softdpu {

// Reads one array. Throws Error(kIoError) when the file cannot be opened or read, and
// Error(kInvalidArgument) naming the path and the problem when the content is malformed or uses a
// feature listed above as unsupported. Never reads out of bounds, whatever the bytes are.
// Bytes after the array data are ignored, as np.load does.
Tensor read_npy(const std::string& path);

// Writes `tensor` as a version 1.0 file, byte for byte the way np.save (numpy 1.24) does.
// Throws Error(kInvalidArgument) for dtypes numpy has no name for (bfloat16) and ranks above 64,
// Error(kIoError) when writing fails.
void write_npy(const std::string& path, const Tensor& tensor);

// The parsed header, exposed for tests and for tools that only want to peek at a file.
struct NpyHeader {
  int major_version = 0;
  int minor_version = 0;
  DType dtype = DType::kUndefined;
  Shape shape;
  size_t data_offset = 0;  // bytes from the file start to the first element
};

// Parses the preamble and header at the start of `bytes` (at least the whole header must be
// there). `what` names the source in error messages. Throws Error(kInvalidArgument).
NpyHeader parse_npy_header(const std::string& bytes, const std::string& what);

}  // namespace softdpu
