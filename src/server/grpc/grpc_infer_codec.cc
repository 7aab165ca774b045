#include "server/grpc/grpc_infer_codec.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

namespace softdpu::server {
namespace {

using inference::InferParameter;
using inference::InferTensorContents;
using inference::ModelInferRequest;

// The InferTensorContents field that carries a datatype's values (protocol spec table).
enum class TypedField { kNone, kBool, kInt, kInt64, kUint, kUint64, kFp32, kFp64, kBytes };

struct TypedFieldInfo {
  TypedField field;
  size_t elem_size;  // bytes per element in the raw layout (0 for BYTES)
  const char* field_name;
};

bool typed_field_for(const std::string& datatype, TypedFieldInfo* info) {
  static const struct {
    const char* datatype;
    TypedFieldInfo info;
  } kTable[] = {
      {"BOOL", {TypedField::kBool, 1, "bool_contents"}},
      {"INT8", {TypedField::kInt, 1, "int_contents"}},
      {"INT16", {TypedField::kInt, 2, "int_contents"}},
      {"INT32", {TypedField::kInt, 4, "int_contents"}},
      {"INT64", {TypedField::kInt64, 8, "int64_contents"}},
      {"UINT8", {TypedField::kUint, 1, "uint_contents"}},
      {"UINT16", {TypedField::kUint, 2, "uint_contents"}},
      {"UINT32", {TypedField::kUint, 4, "uint_contents"}},
      {"UINT64", {TypedField::kUint64, 8, "uint64_contents"}},
      {"FP32", {TypedField::kFp32, 4, "fp32_contents"}},
      {"FP64", {TypedField::kFp64, 8, "fp64_contents"}},
      {"BYTES", {TypedField::kBytes, 0, "bytes_contents"}},
      // FP16 and BF16 have no typed field in the protocol: raw_input_contents only.
      {"FP16", {TypedField::kNone, 2, ""}},
      {"BF16", {TypedField::kNone, 2, ""}},
  };
  for (const auto& row : kTable) {
    if (datatype == row.datatype) {
      *info = row.info;
      return true;
    }
  }
  return false;
}

// Names of the typed fields that hold values, for "wrong field" messages.
std::string populated_fields(const InferTensorContents& c) {
  std::string names;
  auto add = [&](int n, const char* name) {
    if (n == 0) return;
    if (!names.empty()) names += ", ";
    names += name;
  };
  add(c.bool_contents_size(), "bool_contents");
  add(c.int_contents_size(), "int_contents");
  add(c.int64_contents_size(), "int64_contents");
  add(c.uint_contents_size(), "uint_contents");
  add(c.uint64_contents_size(), "uint64_contents");
  add(c.fp32_contents_size(), "fp32_contents");
  add(c.fp64_contents_size(), "fp64_contents");
  add(c.bytes_contents_size(), "bytes_contents");
  return names;
}

int field_size(const InferTensorContents& c, TypedField f) {
  switch (f) {
    case TypedField::kBool: return c.bool_contents_size();
    case TypedField::kInt: return c.int_contents_size();
    case TypedField::kInt64: return c.int64_contents_size();
    case TypedField::kUint: return c.uint_contents_size();
    case TypedField::kUint64: return c.uint64_contents_size();
    case TypedField::kFp32: return c.fp32_contents_size();
    case TypedField::kFp64: return c.fp64_contents_size();
    case TypedField::kBytes: return c.bytes_contents_size();
    case TypedField::kNone: return 0;
  }
  return 0;
}

std::string describe(const ModelInferRequest::InferInputTensor& t, const Shape& shape) {
  return "input '" + t.name() + "' (" + t.datatype() + ", shape " + shape_to_string(shape) + ")";
}

// Appends `v` as an element of `elem_size` bytes after checking it fits the datatype.
template <typename Wide>
bool append_narrowed(Wide v, const TypedFieldInfo& info, bool is_signed, std::string* out) {
  const unsigned bits = static_cast<unsigned>(info.elem_size * 8);
  if (is_signed) {
    const int64_t lo = -(int64_t{1} << (bits - 1)), hi = (int64_t{1} << (bits - 1)) - 1;
    const auto x = static_cast<int64_t>(v);
    if (x < lo || x > hi) return false;
  } else if (bits < 64) {
    const auto x = static_cast<uint64_t>(v);
    if (x > ((uint64_t{1} << bits) - 1)) return false;
  }
  const uint64_t u = static_cast<uint64_t>(v);  // two's complement; low bytes are the element
  char bytes[8];
  std::memcpy(bytes, &u, sizeof(u));  // x86-64 is little-endian, as the protocol's raw layout
  out->append(bytes, info.elem_size);
  return true;
}

template <typename T>
void append_pod(const google::protobuf::RepeatedField<T>& values, std::string* out) {
  if (values.empty()) return;
  out->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

Status typed_to_raw(const ModelInferRequest::InferInputTensor& t, const Shape& shape, int64_t numel,
                    std::string* out) {
  TypedFieldInfo info{};
  if (!typed_field_for(t.datatype(), &info)) {
    return {StatusCode::kInvalidArgument,
            "input '" + t.name() + "': unknown datatype '" + t.datatype() + "'"};
  }
  const InferTensorContents& c = t.contents();
  if (info.field == TypedField::kNone) {
    return {StatusCode::kInvalidArgument,
            describe(t, shape) + ": " + t.datatype() +
                " has no typed contents field in the protocol; send it in raw_input_contents"};
  }
  const int n = field_size(c, info.field);
  const std::string others = populated_fields(c);
  if (!others.empty() && others != info.field_name) {
    return {StatusCode::kInvalidArgument,
            describe(t, shape) + ": values go in contents." + info.field_name + ", got " + others};
  }
  if (n != numel) {
    return {StatusCode::kInvalidArgument, describe(t, shape) + ": expected " +
                                              std::to_string(numel) + " values in contents." +
                                              info.field_name + ", got " + std::to_string(n)};
  }
  out->clear();
  if (info.field != TypedField::kBytes) out->reserve(static_cast<size_t>(numel) * info.elem_size);
  auto out_of_range = [&](int i, const std::string& value) {
    return Status(StatusCode::kInvalidArgument, describe(t, shape) + ": value " + value +
                                                    " at index " + std::to_string(i) +
                                                    " is out of range for " + t.datatype());
  };
  switch (info.field) {
    case TypedField::kBool:
      for (bool b : c.bool_contents()) out->push_back(b ? 1 : 0);
      break;
    case TypedField::kInt:
      for (int i = 0; i < n; ++i) {
        if (!append_narrowed(c.int_contents(i), info, true, out)) {
          return out_of_range(i, std::to_string(c.int_contents(i)));
        }
      }
      break;
    case TypedField::kUint:
      for (int i = 0; i < n; ++i) {
        if (!append_narrowed(c.uint_contents(i), info, false, out)) {
          return out_of_range(i, std::to_string(c.uint_contents(i)));
        }
      }
      break;
    case TypedField::kInt64: append_pod(c.int64_contents(), out); break;
    case TypedField::kUint64: append_pod(c.uint64_contents(), out); break;
    case TypedField::kFp32: append_pod(c.fp32_contents(), out); break;
    case TypedField::kFp64: append_pod(c.fp64_contents(), out); break;
    case TypedField::kBytes:
      for (const std::string& s : c.bytes_contents()) {
        if (s.size() > std::numeric_limits<uint32_t>::max()) {
          return {StatusCode::kTooLarge, describe(t, shape) + ": a BYTES element over 4 GiB"};
        }
        const auto len = static_cast<uint32_t>(s.size());
        char prefix[4];
        std::memcpy(prefix, &len, sizeof(len));
        out->append(prefix, 4);
        out->append(s);
      }
      break;
    case TypedField::kNone: break;
  }
  return Status::ok();
}

bool has_typed_values(const InferTensorContents& c) {
  return !populated_fields(c).empty();
}

Status decode_parameters(const google::protobuf::Map<std::string, InferParameter>& params,
                         InferRequest* out) {
  for (const auto& [name, p] : params) {
    if (name == "sequence_id") {
      switch (p.parameter_choice_case()) {
        case InferParameter::kInt64Param:
          if (p.int64_param() < 0) {
            return {StatusCode::kInvalidArgument,
                    "parameter 'sequence_id' must not be negative, got " +
                        std::to_string(p.int64_param())};
          }
          out->sequence_id = p.int64_param() == 0 ? "" : std::to_string(p.int64_param());
          break;
        case InferParameter::kUint64Param:
          out->sequence_id = p.uint64_param() == 0 ? "" : std::to_string(p.uint64_param());
          break;
        case InferParameter::kStringParam: out->sequence_id = p.string_param(); break;
        default:
          return {StatusCode::kInvalidArgument,
                  "parameter 'sequence_id' must be an unsigned integer (int64_param / "
                  "uint64_param) or a string (string_param)"};
      }
    } else if (name == "sequence_start" || name == "sequence_end") {
      if (p.parameter_choice_case() != InferParameter::kBoolParam) {
        return {StatusCode::kInvalidArgument,
                "parameter '" + name + "' must be a boolean (bool_param)"};
      }
      (name == "sequence_start" ? out->sequence_start : out->sequence_end) = p.bool_param();
    } else if (name == "timeout") {
      if (p.parameter_choice_case() == InferParameter::kInt64Param && p.int64_param() >= 0) {
        out->timeout_us = static_cast<uint64_t>(p.int64_param());
      } else if (p.parameter_choice_case() == InferParameter::kUint64Param) {
        out->timeout_us = p.uint64_param();
      } else {
        return {StatusCode::kInvalidArgument,
                "parameter 'timeout' must be a non-negative integer number of microseconds "
                "(int64_param / uint64_param)"};
      }
    }
    // Other parameters (priority, client-specific ones) do not change how softdpu runs a
    // request; like Triton, they are accepted and ignored.
  }
  return Status::ok();
}

}  // namespace

Status decode_infer_request(ModelInferRequest* request, InferRequest* out) {
  const ModelInferRequest& in = *request;
  out->model_name = in.model_name();
  out->model_version = in.model_version();
  out->id = in.id();
  if (Status st = decode_parameters(in.parameters(), out); !st) return st;

  const int n_raw = in.raw_input_contents_size();
  if (n_raw != 0 && n_raw != in.inputs_size()) {
    return {StatusCode::kInvalidArgument,
            "raw_input_contents has " + std::to_string(n_raw) + " entries but the request has " +
                std::to_string(in.inputs_size()) + " inputs (one entry per input, in order)"};
  }
  out->inputs.clear();
  out->inputs.reserve(static_cast<size_t>(in.inputs_size()));
  for (int i = 0; i < in.inputs_size(); ++i) {
    const auto& t = in.inputs(i);
    InputTensor& dst = out->inputs.emplace_back();
    dst.name = t.name();
    dst.datatype = t.datatype();
    dst.shape.assign(t.shape().begin(), t.shape().end());
    const int64_t numel = bounded_numel(dst.shape);
    if (numel < 0)
      return {StatusCode::kInvalidArgument,
              "input '" + t.name() + "': invalid shape " + shape_to_string(dst.shape)};
    if (n_raw != 0) {
      if (t.has_contents() && has_typed_values(t.contents())) {
        return {StatusCode::kInvalidArgument,
                "input '" + t.name() +
                    "': contents and raw_input_contents are both set; use one of them"};
      }
      dst.data.swap(*request->mutable_raw_input_contents(i));
    } else if (Status st = typed_to_raw(t, dst.shape, numel, &dst.data); !st) {
      return st;
    }
  }

  out->outputs.clear();
  for (const auto& o : in.outputs()) {
    if (o.parameters().count("classification") != 0) {
      return {StatusCode::kUnsupported,
              "output '" + o.name() + "': the classification extension is not supported"};
    }
    out->outputs.push_back(RequestedOutput{o.name(), false});
  }
  return Status::ok();
}

void encode_infer_response(InferResponse&& in, inference::ModelInferResponse* out) {
  out->set_model_name(std::move(in.model_name));
  out->set_model_version(std::move(in.model_version));
  out->set_id(std::move(in.id));
  for (OutputTensor& o : in.outputs) {
    auto* t = out->add_outputs();
    t->set_name(std::move(o.name));
    t->set_datatype(std::move(o.datatype));
    for (int64_t d : o.shape) t->add_shape(d);
    *out->add_raw_output_contents() = std::move(o.data);
  }
}

}  // namespace softdpu::server
