// IDX files (the MNIST / Fashion-MNIST container: big-endian magic, dims, then raw elements),
// plain or gzip-compressed, as Debian's dataset-fashion-mnist ships them.
#pragma once

#include <string>

#include "softdpu/tensor.h"

namespace softdpu::data {

// Reads an IDX file of unsigned bytes (type code 0x08) into a uint8 Tensor of its shape.
// `.gz` files are decompressed. Throws Error(kIoError) when the file cannot be read and
// Error(kInvalidArgument) naming the file when its header or size is inconsistent.
Tensor read_idx_u8(const std::string& path);

}  // namespace softdpu::data
