#include "server/http_infer_codec.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "formats/element.h"
#include "server/http_binary_header.h"

namespace softdpu::server {
namespace {
using nlohmann::json;

Status bad(std::string msg) {
  return {StatusCode::kInvalidArgument, std::move(msg)};
}

// Flattens nested JSON arrays depth-first into `out` (the protocol allows both layouts).
bool flatten(const json& j, std::vector<const json*>* out, int depth = 0) {
  if (depth > 32) return false;
  if (!j.is_array()) {
    out->push_back(&j);
    return true;
  }
  for (const json& e : j)
    if (!flatten(e, out, depth + 1)) return false;
  return true;
}

// A JSON number fits a floating-point datatype if it is finite there: the cast of a double
// beyond FLT_MAX to float is undefined, and inf/NaN are no JSON values ("1e400" is read as inf).
template <typename T>
bool representable(double d) {
  return std::isfinite(d) && std::fabs(d) <= static_cast<double>(std::numeric_limits<T>::max());
}

template <typename T>
bool put_number(const json& v, char* dst) {
  T x;
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return false;
    x = v.get<bool>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number() || !representable<T>(v.get<double>())) return false;
    x = static_cast<T>(v.get<double>());
  } else {
    if (!v.is_number_integer()) return false;
    if constexpr (std::is_unsigned_v<T>) {
      if (v.is_number_unsigned()) {
        x = static_cast<T>(v.get<uint64_t>());
      } else {
        if (v.get<int64_t>() < 0) return false;
        x = static_cast<T>(v.get<int64_t>());
      }
    } else {
      x = static_cast<T>(v.get<int64_t>());
    }
  }
  std::memcpy(dst, &x, sizeof(T));
  return true;
}

bool put_element(DType t, const json& v, char* dst) {
  switch (t) {
    case DType::kFloat32: return put_number<float>(v, dst);
    case DType::kFloat64: return put_number<double>(v, dst);
    case DType::kInt8: return put_number<int8_t>(v, dst);
    case DType::kInt16: return put_number<int16_t>(v, dst);
    case DType::kInt32: return put_number<int32_t>(v, dst);
    case DType::kInt64: return put_number<int64_t>(v, dst);
    case DType::kUInt8: return put_number<uint8_t>(v, dst);
    case DType::kUInt16: return put_number<uint16_t>(v, dst);
    case DType::kUInt32: return put_number<uint32_t>(v, dst);
    case DType::kUInt64: return put_number<uint64_t>(v, dst);
    case DType::kBool: return put_number<bool>(v, dst);
    case DType::kFloat16:
    case DType::kBFloat16: {
      if (!v.is_number() || !representable<float>(v.get<double>())) return false;
      const float f = static_cast<float>(v.get<double>());
      uint16_t bits = t == DType::kFloat16 ? formats::float_to_fp16(f, formats::Rounding::kEven)
                                           : formats::float_to_bf16(f, formats::Rounding::kEven);
      std::memcpy(dst, &bits, 2);
      return true;
    }
    default: return false;
  }
}

// --- Fast path for "data" arrays. nlohmann builds a DOM node and calls strtod per element
// (~300 ns each, most of a 784-float request); this pre-pass parses every "data": [numbers...]
// array with std::from_chars and hands nlohmann a copy of the text with each such array replaced
// by {"$fast": k}. Anything unusual (strings, null, bad tokens) makes it give up, and the plain
// nlohmann path then handles (or reports) the body as before.
struct FastNum {
  double d = 0;
  int64_t i = 0;
  uint8_t kind = 0;  // 0 real, 1 integer, 2 bool
};

struct FastArrays {
  std::vector<std::vector<FastNum>> arrays;
  std::string rewritten;
};

size_t skip_ws(std::string_view t, size_t k) {
  while (k < t.size() && (t[k] == ' ' || t[k] == '\n' || t[k] == '\r' || t[k] == '\t')) ++k;
  return k;
}

// Characters that may continue a JSON number: 1 for digits and signs; 2 for '.', 'e', 'E' (they
// make it real).
constexpr auto kNumberChar = [] {
  std::array<uint8_t, 256> table{};
  for (char c = '0'; c <= '9'; ++c) table[static_cast<unsigned char>(c)] = 1;
  table['-'] = table['+'] = 1;
  table['.'] = table['e'] = table['E'] = 2;
  return table;
}();

// The JSON number at t[k] (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), parsed by
// from_chars without scanning it first (a scan cost as much as the parse). from_chars is laxer
// than JSON ("01", "1.", "1.e5", "-.5", "-inf"), so the checks around it refuse exactly those:
// the fast path must refuse what nlohmann refuses, never read them as values. An integer beyond
// INT64 is refused too (no integer datatype holds it). *e: the end of the token.
bool parse_number(std::string_view t, size_t k, FastNum* n, size_t* e) {
  const char* first = t.data() + k;
  const char* last = t.data() + t.size();
  auto digit = [&](const char* p) { return p < last && *p >= '0' && *p <= '9'; };
  auto kind = [&](const char* p) {
    return p < last ? kNumberChar[static_cast<unsigned char>(*p)] : uint8_t{0};
  };
  const char* d = first + (*first == '-');
  if (!digit(d) || (*d == '0' && digit(d + 1))) return false;  // "-", "-.5", "-inf", "01"
  const auto ri = std::from_chars(first, last, n->i);
  if (ri.ec == std::errc() && kind(ri.ptr) == 0) {  // digits only: an integer
    n->d = static_cast<double>(n->i);
    n->kind = 1;
    *e = static_cast<size_t>(ri.ptr - t.data());
    return true;
  }
  // A '.' or an exponent after the digits makes the token real ("1-2", or digits beyond INT64
  // followed by nothing, are refused); a '.' needs a digit after it ("1.", "1.e5").
  if (kind(ri.ptr) != 2 || (*ri.ptr == '.' && !digit(ri.ptr + 1))) return false;
  const auto rd = std::from_chars(first, last, n->d);
  // An exponent without digits ("1e", "1.5e+") stops from_chars before it: refused here.
  if (rd.ec != std::errc() || kind(rd.ptr) != 0) return false;
  n->i = 0;
  *e = static_cast<size_t>(rd.ptr - t.data());
  return true;
}

// A JSON array of numbers and booleans, nested arrays allowed, at t[k] ('['): values and
// commas strictly alternate ("[1 2]", "[1,,2]", "[1,]" and "[[1][2]]" are refused).
bool parse_number_array(std::string_view t, size_t k, std::vector<FastNum>* v, size_t* end) {
  int depth = 0;
  bool want_value = true;  // after '[' or ',': a value (or, right after '[', the closing ']')
  bool after_open = false;
  while (k < t.size()) {
    k = skip_ws(t, k);
    if (k >= t.size()) return false;
    const char c = t[k];
    if (c == ']') {
      if (want_value && !after_open) return false;  // "[1,]"
      ++k;
      if (--depth == 0) {
        *end = k;
        return true;
      }
      want_value = after_open = false;
      continue;
    }
    if (c == ',') {
      if (want_value) return false;
      ++k;
      want_value = true;
      after_open = false;
      continue;
    }
    if (!want_value) return false;  // two values without a comma
    after_open = false;
    if (c == '[') {
      if (++depth > 32) return false;
      ++k;
      want_value = after_open = true;
      continue;
    }
    want_value = false;
    if (c == 't' && t.substr(k, 4) == "true") {
      v->push_back({1, 1, 2});
      k += 4;
    } else if (c == 'f' && t.substr(k, 5) == "false") {
      v->push_back({0, 0, 2});
      k += 5;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      FastNum n;
      size_t e = 0;
      if (!parse_number(t, k, &n, &e)) return false;
      v->push_back(n);
      k = e;
    } else {
      return false;
    }
  }
  return false;
}

bool strip_data_arrays(std::string_view t, FastArrays* fa) {
  size_t i = 0, copied = 0;
  while (i < t.size()) {
    if (t[i] != '"') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < t.size() && t[j] != '"') j += t[j] == '\\' ? 2 : 1;
    if (j >= t.size()) return false;
    const bool is_data = t.substr(i + 1, j - i - 1) == "data";
    i = j + 1;
    if (!is_data) continue;
    size_t k = skip_ws(t, i);
    if (k >= t.size() || t[k] != ':') continue;
    k = skip_ws(t, k + 1);
    if (k >= t.size() || t[k] != '[') continue;
    std::vector<FastNum> v;
    size_t end = 0;
    if (!parse_number_array(t, k, &v, &end)) return false;
    fa->rewritten.append(t.substr(copied, k - copied));
    fa->rewritten.append("{\"$fast\":").append(std::to_string(fa->arrays.size())).append("}");
    fa->arrays.push_back(std::move(v));
    copied = i = end;
  }
  if (fa->arrays.empty()) return false;
  fa->rewritten.append(t.substr(copied));
  return true;
}

template <typename T>
bool put_fast_number(const FastNum& n, char* dst) {
  T x;
  if constexpr (std::is_same_v<T, bool>) {
    if (n.kind != 2) return false;
    x = n.i != 0;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (n.kind == 2 || !representable<T>(n.d)) return false;
    x = static_cast<T>(n.d);
  } else {
    if (n.kind != 1 || n.i < static_cast<int64_t>(std::numeric_limits<T>::min())) return false;
    if constexpr (sizeof(T) < 8 || std::is_signed_v<T>)
      if (n.i > static_cast<int64_t>(std::numeric_limits<T>::max())) return false;
    x = static_cast<T>(n.i);
  }
  std::memcpy(dst, &x, sizeof(T));
  return true;
}

bool put_fast(DType t, const FastNum& n, char* dst) {
  switch (t) {
    case DType::kFloat32: return put_fast_number<float>(n, dst);
    case DType::kFloat64: return put_fast_number<double>(n, dst);
    case DType::kInt8: return put_fast_number<int8_t>(n, dst);
    case DType::kInt16: return put_fast_number<int16_t>(n, dst);
    case DType::kInt32: return put_fast_number<int32_t>(n, dst);
    case DType::kInt64: return put_fast_number<int64_t>(n, dst);
    case DType::kUInt8: return put_fast_number<uint8_t>(n, dst);
    case DType::kUInt16: return put_fast_number<uint16_t>(n, dst);
    case DType::kUInt32: return put_fast_number<uint32_t>(n, dst);
    case DType::kUInt64: return put_fast_number<uint64_t>(n, dst);
    case DType::kBool: return put_fast_number<bool>(n, dst);
    case DType::kFloat16:
    case DType::kBFloat16: {
      if (n.kind == 2 || !representable<float>(n.d)) return false;
      const float f = static_cast<float>(n.d);
      uint16_t bits = t == DType::kFloat16 ? formats::float_to_fp16(f, formats::Rounding::kEven)
                                           : formats::float_to_bf16(f, formats::Rounding::kEven);
      std::memcpy(dst, &bits, 2);
      return true;
    }
    default: return false;
  }
}

std::string fast_text(const FastNum& n) {
  if (n.kind == 2) return n.i ? "true" : "false";
  if (n.kind == 1) return std::to_string(n.i);
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, n.d).ptr);
}

bool get_bool_param(const json& params, const char* key, bool* out, Status* err) {
  if (!params.contains(key)) return false;
  if (!params[key].is_boolean()) {
    *err = bad(std::string("parameter '") + key + "': expected true or false");
    return false;
  }
  *out = params[key].get<bool>();
  return true;
}

Status decode_input(const json& j, size_t i, std::string_view* binary, const FastArrays& fast,
                    InputTensor* in) {
  // The names for error messages are built only when there is an error to report.
  auto where = [i] { return "inputs[" + std::to_string(i) + "]"; };
  auto what = [in] { return "input '" + in->name + "'"; };
  if (!j.is_object()) return bad(where() + ": expected an object");
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return bad(where() + ": 'name' is required");
  in->name = name->get_ref<const std::string&>();
  const auto datatype = j.find("datatype");
  if (datatype == j.end() || !datatype->is_string())
    return bad(what() + ": 'datatype' is required");
  in->datatype = datatype->get_ref<const std::string&>();
  const auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array()) return bad(what() + ": 'shape' is required");
  for (const json& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0)
      return bad(what() + ": shape must be non-negative integers, got " + shape->dump());
    in->shape.push_back(d.get<int64_t>());
  }
  const int64_t numel = bounded_numel(in->shape);
  if (numel < 0) return bad(what() + ": shape " + shape->dump() + " has more than 2^40 elements");
  auto dt = datatype_from_name(in->datatype);
  if (!dt) return bad(what() + ": unknown datatype '" + in->datatype + "'");
  if (*dt == DType::kString)
    return bad(what() + ": datatype BYTES is not supported by softdpu models");
  const size_t esize = dtype_size(*dt);

  int64_t binary_size = -1;
  if (j.contains("parameters")) {
    const json& p = j["parameters"];
    if (!p.is_object()) return bad(what() + ": 'parameters' must be an object");
    if (p.contains("binary_data_size")) {
      if (!p["binary_data_size"].is_number_integer() || p["binary_data_size"].get<int64_t>() < 0)
        return bad(what() + ": binary_data_size must be a non-negative integer");
      binary_size = p["binary_data_size"].get<int64_t>();
    }
  }
  if (binary_size >= 0) {
    if (j.contains("data")) return bad(what() + ": has both 'data' and binary_data_size");
    if (static_cast<uint64_t>(binary_size) > binary->size())
      return bad(what() + ": binary_data_size " + std::to_string(binary_size) + " but only " +
                 std::to_string(binary->size()) + " bytes of binary data remain in the body");
    in->data.assign(binary->data(), static_cast<size_t>(binary_size));
    binary->remove_prefix(static_cast<size_t>(binary_size));
    return Status::ok();
  }
  if (!j.contains("data")) return bad(what() + ": no 'data' and no binary_data_size parameter");
  const json& data = j["data"];
  if (data.is_object() && data.contains("$fast") && data["$fast"].is_number_unsigned() &&
      data["$fast"].get<size_t>() < fast.arrays.size()) {
    const std::vector<FastNum>& v = fast.arrays[data["$fast"].get<size_t>()];
    if (static_cast<int64_t>(v.size()) != numel)
      return bad(what() + ": shape " + shape_to_string(in->shape) + " needs " +
                 std::to_string(numel) + " elements, 'data' has " + std::to_string(v.size()));
    in->data.resize(v.size() * esize);
    for (size_t k = 0; k < v.size(); ++k)
      if (!put_fast(*dt, v[k], in->data.data() + k * esize))
        return bad(what() + ": data[" + std::to_string(k) + "] = " + fast_text(v[k]) +
                   " is not a valid " + in->datatype + " value");
    return Status::ok();
  }
  std::vector<const json*> elems;
  elems.reserve(static_cast<size_t>(std::max<int64_t>(numel, 0)));
  if (!flatten(j["data"], &elems)) return bad(what() + ": 'data' is nested too deeply");
  if (static_cast<int64_t>(elems.size()) != numel)
    return bad(what() + ": shape " + shape_to_string(in->shape) + " needs " +
               std::to_string(numel) + " elements, 'data' has " + std::to_string(elems.size()));
  in->data.resize(elems.size() * esize);
  for (size_t k = 0; k < elems.size(); ++k) {
    if (!put_element(*dt, *elems[k], in->data.data() + k * esize))
      return bad(what() + ": data[" + std::to_string(k) + "] = " + elems[k]->dump() +
                 " is not a valid " + in->datatype + " value");
  }
  return Status::ok();
}

// Shortest round-trip text for one element.
void append_element(DType t, const char* src, std::string* out) {
  char buf[64];
  char* end = buf;
  auto num = [&](auto v) { end = std::to_chars(buf, buf + sizeof buf, v).ptr; };
  switch (t) {
    case DType::kFloat32: {
      float v;
      std::memcpy(&v, src, 4);
      if (!std::isfinite(v)) {
        out->append("null");
        return;
      }  // JSON has no NaN/Inf
      num(v);
      break;
    }
    case DType::kFloat64: {
      double v;
      std::memcpy(&v, src, 8);
      if (!std::isfinite(v)) {
        out->append("null");
        return;
      }
      num(v);
      break;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      uint16_t b;
      std::memcpy(&b, src, 2);
      float v = t == DType::kFloat16 ? formats::fp16_to_float(b) : formats::bf16_to_float(b);
      if (!std::isfinite(v)) {
        out->append("null");
        return;
      }
      num(v);
      break;
    }
    case DType::kBool: out->append(*src ? "true" : "false"); return;
#define SOFTDPU_INT_CASE(D, T)      \
  case D: {                         \
    T v;                            \
    std::memcpy(&v, src, sizeof v); \
    num(v);                         \
    break;                          \
  }
      SOFTDPU_INT_CASE(DType::kInt8, int8_t)
      SOFTDPU_INT_CASE(DType::kInt16, int16_t)
      SOFTDPU_INT_CASE(DType::kInt32, int32_t)
      SOFTDPU_INT_CASE(DType::kInt64, int64_t)
      SOFTDPU_INT_CASE(DType::kUInt8, uint8_t)
      SOFTDPU_INT_CASE(DType::kUInt16, uint16_t)
      SOFTDPU_INT_CASE(DType::kUInt32, uint32_t)
      SOFTDPU_INT_CASE(DType::kUInt64, uint64_t)
#undef SOFTDPU_INT_CASE
    default: out->append("null"); return;
  }
  out->append(buf, end);
}

// A JSON string literal. Names and ids are almost always printable ASCII without quotes or
// backslashes, which JSON writes as they are: nlohmann (two allocations per call) only for others.
void append_string(const std::string& s, std::string* out) {
  const bool plain = std::all_of(
      s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (!plain) {
    out->append(json(s).dump());
    return;
  }
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

}  // namespace

bool ResponseFormat::binary(const std::string& output) const {
  if (all_binary) return true;
  for (const std::string& b : binary_outputs)
    if (b == output) return true;
  return false;
}

Status decode_infer_request(std::string_view body, int64_t header_length, InferRequest* out,
                            ResponseFormat* format) {
  std::string_view header = body;
  std::string_view binary;
  if (header_length >= 0) {
    if (static_cast<uint64_t>(header_length) > body.size())
      return bad("Inference-Header-Content-Length is " + std::to_string(header_length) +
                 " but the body has only " + std::to_string(body.size()) + " bytes");
    header = body.substr(0, static_cast<size_t>(header_length));
    binary = body.substr(static_cast<size_t>(header_length));
    if (decode_binary_header(header, binary, out, format)) return Status::ok();
  }
  FastArrays fast;
  const std::string_view original = header;
  if (strip_data_arrays(header, &fast)) header = fast.rewritten;
  json j = json::parse(header, nullptr, false);
  if (j.is_discarded()) {
    // Re-parse with exceptions for the position and reason of the error: a syntax error, or a
    // number beyond double ("1e400": out_of_range, which must not escape either).
    try {
      json again = json::parse(original);
      (void)again;
    } catch (const json::exception& e) {
      return bad(std::string("malformed JSON in the request body: ") + e.what());
    }
    return bad("malformed JSON in the request body");
  }
  if (!j.is_object()) return bad("request body: expected a JSON object");
  if (j.contains("id")) {
    if (!j["id"].is_string()) return bad("'id' must be a string");
    out->id = j["id"].get<std::string>();
  }
  if (j.contains("parameters")) {
    const json& p = j["parameters"];
    if (!p.is_object()) return bad("'parameters' must be an object");
    Status err;
    if (p.contains("sequence_id")) {
      const json& s = p["sequence_id"];
      if (s.is_number_unsigned() || (s.is_number_integer() && s.get<int64_t>() >= 0))
        out->sequence_id = std::to_string(s.get<uint64_t>());
      else if (s.is_string())
        out->sequence_id = s.get<std::string>();
      else
        return bad("parameter 'sequence_id': expected an unsigned integer or a string");
    }
    get_bool_param(p, "sequence_start", &out->sequence_start, &err);
    get_bool_param(p, "sequence_end", &out->sequence_end, &err);
    get_bool_param(p, "binary_data_output", &format->all_binary, &err);
    if (!err) return err;
    if (p.contains("timeout")) {
      if (!p["timeout"].is_number_integer() || p["timeout"].get<int64_t>() < 0)
        return bad("parameter 'timeout': expected microseconds as a non-negative integer");
      out->timeout_us = p["timeout"].get<uint64_t>();
    }
  }
  if (!j.contains("inputs") || !j["inputs"].is_array())
    return bad("request body: 'inputs' (an array) is required");
  out->inputs.resize(j["inputs"].size());
  for (size_t i = 0; i < j["inputs"].size(); ++i) {
    Status st = decode_input(j["inputs"][i], i, &binary, fast, &out->inputs[i]);
    if (!st) return st;
  }
  if (!binary.empty())
    return bad("the body carries " + std::to_string(binary.size()) +
               " bytes of binary data after the JSON header that no input's binary_data_size "
               "accounts for");
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) return bad("'outputs' must be an array");
    for (size_t i = 0; i < j["outputs"].size(); ++i) {
      const json& o = j["outputs"][i];
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
        return bad("outputs[" + std::to_string(i) + "]: 'name' is required");
      RequestedOutput ro;
      ro.name = o["name"].get<std::string>();
      if (o.contains("parameters") && o["parameters"].is_object()) {
        Status err;
        get_bool_param(o["parameters"], "binary_data", &ro.binary_data, &err);
        if (!err) return bad("output '" + ro.name + "': " + err.message());
      }
      if (ro.binary_data) format->binary_outputs.push_back(ro.name);
      out->outputs.push_back(std::move(ro));
    }
  }
  return Status::ok();
}

void encode_infer_response(const InferResponse& r, const ResponseFormat& format, std::string* body,
                           int64_t* header_length) {
  std::string& o = *body;
  o.append("{\"model_name\":");
  append_string(r.model_name, &o);
  o.append(",\"model_version\":");
  append_string(r.model_version, &o);
  if (!r.id.empty()) {
    o.append(",\"id\":");
    append_string(r.id, &o);
  }
  o.append(",\"outputs\":[");
  bool any_binary = false;
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    const OutputTensor& t = r.outputs[i];
    if (i) o.push_back(',');
    o.append("{\"name\":");
    append_string(t.name, &o);
    o.append(",\"datatype\":\"").append(t.datatype).append("\",\"shape\":[");
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (d) o.push_back(',');
      o.append(std::to_string(t.shape[d]));
    }
    o.push_back(']');
    if (format.binary(t.name)) {
      any_binary = true;
      o.append(",\"parameters\":{\"binary_data_size\":")
          .append(std::to_string(t.data.size()))
          .append("}}");
      continue;
    }
    o.append(",\"data\":[");
    auto dt = datatype_from_name(t.datatype);
    const size_t es = dt ? dtype_size(*dt) : 0;
    for (size_t k = 0; es && k < t.data.size() / es; ++k) {
      if (k) o.push_back(',');
      append_element(*dt, t.data.data() + k * es, &o);
    }
    o.append("]}");
  }
  o.append("]}");
  *header_length = -1;
  if (any_binary) {
    *header_length = static_cast<int64_t>(o.size());
    for (const OutputTensor& t : r.outputs)
      if (format.binary(t.name)) o.append(t.data);
  }
}

std::string error_json(const std::string& message) {
  return "{\"error\":" + json(message).dump(-1, ' ', false, json::error_handler_t::replace) + "}";
}

}  // namespace softdpu::server
