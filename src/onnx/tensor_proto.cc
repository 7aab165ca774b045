#include "onnx/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "softdpu/status.h"

namespace softdpu::onnx_io {
namespace {

[[noreturn]] void bad(const onnx::TensorProto& p, const std::string& msg) {
  throw Error(StatusCode::kInvalidModel, "tensor '" + p.name() + "': " + msg);
}

template <typename Dst, typename Field>
void copy_field(const onnx::TensorProto& p, const Field& field, Tensor& t) {
  if (static_cast<int64_t>(field.size()) != t.numel()) {
    bad(p, "has " + std::to_string(field.size()) + " values for shape " +
               shape_to_string(t.shape()) + " (" + std::to_string(t.numel()) + " elements)");
  }
  Dst* out = t.data_as<Dst>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Dst>(field.Get(i));
}

std::string read_external(const onnx::TensorProto& p, const std::string& base_dir,
                          size_t expected) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& kv : p.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::stoll(kv.value());
    else if (kv.key() == "length")
      length = std::stoll(kv.value());
  }
  if (location.empty()) bad(p, "external data without a location");
  if (location.find("..") != std::string::npos || (!location.empty() && location[0] == '/')) {
    bad(p, "external data location '" + location + "' must be a relative path beside the model");
  }
  std::string path = base_dir.empty() ? location : base_dir + "/" + location;
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw Error(StatusCode::kInvalidModel,
                "tensor '" + p.name() + "': external data file '" + path + "' cannot be opened");
  f.seekg(0, std::ios::end);
  int64_t size = f.tellg();
  if (length < 0) length = static_cast<int64_t>(expected);
  if (offset < 0 || offset + length > size) {
    bad(p, "external data range [" + std::to_string(offset) + ", " +
               std::to_string(offset + length) + ") exceeds file '" + path + "' of " +
               std::to_string(size) + " bytes");
  }
  std::string bytes(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(bytes.data(), length);
  return bytes;
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& base_dir) {
  DType dtype = static_cast<DType>(p.data_type());
  if (dtype == DType::kString) {
    Tensor t(dtype, Shape(p.dims().begin(), p.dims().end()));
    if (p.string_data_size() != t.numel())
      bad(p, "has " + std::to_string(p.string_data_size()) + " strings for " +
                 std::to_string(t.numel()) + " elements");
    for (int i = 0; i < p.string_data_size(); ++i) t.data_as<std::string>()[i] = p.string_data(i);
    return t;
  }
  if (!dtype_is_supported(dtype)) {
    throw Error(StatusCode::kUnsupported, "tensor '" + p.name() + "': element type " +
                                              std::string(dtype_name(dtype)) + " (" +
                                              std::to_string(p.data_type()) + ") is not supported");
  }
  Shape shape(p.dims().begin(), p.dims().end());
  for (int64_t d : shape) {
    if (d < 0) bad(p, "negative dimension in " + shape_to_string(shape));
  }
  if (p.has_segment()) bad(p, "segmented tensors are not supported");
  Tensor t(dtype, shape);
  const size_t nbytes = t.nbytes();
  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string bytes = read_external(p, base_dir, nbytes);
    if (bytes.size() != nbytes)
      bad(p, "external data has " + std::to_string(bytes.size()) + " bytes, expected " +
                 std::to_string(nbytes));
    std::memcpy(t.data(), bytes.data(), nbytes);
    return t;
  }
  if (p.has_raw_data()) {
    if (p.raw_data().size() != nbytes) {
      bad(p, "raw_data has " + std::to_string(p.raw_data().size()) + " bytes, expected " +
                 std::to_string(nbytes) + " for " + dtype_name(dtype) + " " +
                 shape_to_string(shape));
    }
    std::memcpy(t.data(), p.raw_data().data(), nbytes);
    return t;
  }
  switch (dtype) {
    case DType::kFloat32: copy_field<float>(p, p.float_data(), t); break;
    case DType::kFloat64: copy_field<double>(p, p.double_data(), t); break;
    case DType::kInt64: copy_field<int64_t>(p, p.int64_data(), t); break;
    case DType::kUInt64: copy_field<uint64_t>(p, p.uint64_data(), t); break;
    case DType::kUInt32: copy_field<uint32_t>(p, p.uint64_data(), t); break;
    case DType::kInt32: copy_field<int32_t>(p, p.int32_data(), t); break;
    case DType::kInt16: copy_field<int16_t>(p, p.int32_data(), t); break;
    case DType::kUInt16: copy_field<uint16_t>(p, p.int32_data(), t); break;
    case DType::kInt8: copy_field<int8_t>(p, p.int32_data(), t); break;
    case DType::kUInt8: copy_field<uint8_t>(p, p.int32_data(), t); break;
    case DType::kBool: copy_field<uint8_t>(p, p.int32_data(), t); break;
    // float16 / bfloat16 travel as their bit patterns in int32_data.
    case DType::kFloat16:
    case DType::kBFloat16: copy_field<uint16_t>(p, p.int32_data(), t); break;
    default: bad(p, "unsupported element type");
  }
  return t;
}

Tensor load_tensor_pb(const std::string& path, std::string* name_out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(StatusCode::kIoError, "cannot open '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  onnx::TensorProto p;
  if (!p.ParseFromString(ss.str())) {
    throw Error(StatusCode::kInvalidArgument,
                "'" + path + "' is not a serialized ONNX TensorProto");
  }
  if (name_out) *name_out = p.name();
  std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  return tensor_from_proto(p, dir);
}

}  // namespace softdpu::onnx_io
