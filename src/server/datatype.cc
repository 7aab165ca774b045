// Protocol datatype names and the Status -> HTTP status mapping shared by both transports.
#include <utility>

#include "server/inference_server.h"

namespace softdpu::server {
namespace {
constexpr std::pair<DType, const char*> kNames[] = {
    {DType::kBool, "BOOL"},     {DType::kUInt8, "UINT8"},   {DType::kUInt16, "UINT16"},
    {DType::kUInt32, "UINT32"}, {DType::kUInt64, "UINT64"}, {DType::kInt8, "INT8"},
    {DType::kInt16, "INT16"},   {DType::kInt32, "INT32"},   {DType::kInt64, "INT64"},
    {DType::kFloat16, "FP16"},  {DType::kFloat32, "FP32"},  {DType::kFloat64, "FP64"},
    {DType::kBFloat16, "BF16"}, {DType::kString, "BYTES"},
};
}  // namespace

const char* datatype_name(DType t) {
  for (const auto& [d, n] : kNames)
    if (d == t) return n;
  return "INVALID";
}

std::optional<DType> datatype_from_name(const std::string& name) {
  for (const auto& [d, n] : kNames)
    if (name == n) return d;
  return std::nullopt;
}

int status_to_http(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kUnsupported: return 400;
    default: return 500;
  }
}

int64_t bounded_numel(const Shape& shape) {
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && numel > (int64_t{1} << 40) / d)) return -1;
    numel *= d;
  }
  return numel;
}

}  // namespace softdpu::server
