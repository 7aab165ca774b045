#include "server/http_binary_header.h"

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <utility>

namespace softdpu::server {
namespace {

namespace sj = simdjson::ondemand;

// Every helper returns false on anything outside the subset or malformed: the general path then
// decodes it or words the error, so nothing here needs a message.

// The value of a key that may appear once: bit k of *seen.
bool first_time(unsigned* seen, size_t k) {
  if (*seen & (1u << k)) return false;
  *seen |= 1u << k;
  return true;
}

// Index of `key` in `keys`, or N (unknown keys are outside the subset).
template <size_t N>
size_t key_index(sj::field& field, const std::string_view (&keys)[N]) {
  std::string_view key;
  if (field.unescaped_key().get(key)) return N;
  size_t k = 0;
  while (k < N && keys[k] != key) ++k;
  return k;
}

// A non-negative integer below 10^18: it fits int64 with margin (sizes and shape dimensions);
// anything larger goes to the general path, which words the error.
bool count(sj::value v, int64_t* out) {
  uint64_t x;
  if (v.get_uint64().get(x) || x >= 1000000000000000000ull) return false;
  *out = static_cast<int64_t>(x);
  return true;
}

bool read_input(sj::value v, std::string_view* binary, InputTensor* in) {
  static constexpr std::string_view kKeys[] = {"name", "datatype", "shape", "parameters"};
  sj::object obj;
  if (v.get_object().get(obj)) return false;
  unsigned seen = 0;
  int64_t size = -1;
  for (auto f : obj) {
    sj::field field;
    if (std::move(f).get(field)) return false;
    const size_t k = key_index(field, kKeys);
    if (k == 4 || !first_time(&seen, k)) return false;
    std::string_view s;
    switch (k) {
      case 0:
      case 1:
        if (field.value().get_string().get(s)) return false;
        (k == 0 ? in->name : in->datatype).assign(s);
        break;
      case 2: {
        sj::array shape;
        if (field.value().get_array().get(shape)) return false;
        in->shape.reserve(4);  // batch-1 shapes: one allocation, not two
        for (auto d : shape) {
          sj::value dv;
          int64_t n;
          if (d.get(dv) || !count(dv, &n)) return false;
          in->shape.push_back(n);
        }
        break;
      }
      default: {
        static constexpr std::string_view kParams[] = {"binary_data_size"};
        sj::object params;
        if (field.value().get_object().get(params)) return false;
        unsigned pseen = 0;
        for (auto p : params) {
          sj::field pf;
          if (std::move(p).get(pf) || key_index(pf, kParams) != 0 || !first_time(&pseen, 0) ||
              !count(pf.value(), &size))
            return false;
        }
      }
    }
  }
  if (in->name.empty() || in->datatype.empty() || !(seen & 4u) || size < 0) return false;
  // What the general path checks before taking the bytes; its errors are worded there.
  const auto dt = datatype_from_name(in->datatype);
  if (!dt || *dt == DType::kString || static_cast<uint64_t>(size) > binary->size()) return false;
  in->data.assign(binary->data(), static_cast<size_t>(size));
  binary->remove_prefix(static_cast<size_t>(size));
  return true;
}

bool read_output(sj::value v, RequestedOutput* out) {
  static constexpr std::string_view kKeys[] = {"name", "parameters"};
  sj::object obj;
  if (v.get_object().get(obj)) return false;
  unsigned seen = 0;
  for (auto f : obj) {
    sj::field field;
    if (std::move(f).get(field)) return false;
    const size_t k = key_index(field, kKeys);
    if (k == 2 || !first_time(&seen, k)) return false;
    if (k == 0) {
      std::string_view s;
      if (field.value().get_string().get(s)) return false;
      out->name.assign(s);
      continue;
    }
    static constexpr std::string_view kParams[] = {"binary_data"};
    sj::object params;
    if (field.value().get_object().get(params)) return false;
    unsigned pseen = 0;
    for (auto p : params) {
      sj::field pf;
      if (std::move(p).get(pf) || key_index(pf, kParams) != 0 || !first_time(&pseen, 0) ||
          pf.value().get_bool().get(out->binary_data))
        return false;
    }
  }
  return (seen & 1u) != 0;
}

bool decode(std::string_view header, std::string_view binary, InferRequest* out,
            ResponseFormat* format) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a padded copy (one per
  // thread, grown once) rather than rely on what follows the header in the body.
  // The parser and the copy keep their capacity per I/O thread: bound it, so that one request
  // with a huge header does not pin its size for the life of the thread.
  constexpr size_t kMaxHeader = 64 * 1024;
  if (header.size() > kMaxHeader) return false;
  thread_local sj::parser parser(kMaxHeader);
  thread_local std::string padded;
  padded.assign(header);
  padded.resize(header.size() + simdjson::SIMDJSON_PADDING);
  sj::document doc;
  if (parser.iterate(padded.data(), header.size(), padded.size()).get(doc)) return false;
  sj::object obj;
  if (doc.get_object().get(obj)) return false;
  static constexpr std::string_view kKeys[] = {"id", "inputs", "outputs"};
  unsigned seen = 0;
  for (auto f : obj) {
    sj::field field;
    if (std::move(f).get(field)) return false;
    const size_t k = key_index(field, kKeys);
    if (k == 3 || !first_time(&seen, k)) return false;
    if (k == 0) {
      std::string_view id;
      if (field.value().get_string().get(id)) return false;
      out->id.assign(id);
      continue;
    }
    sj::array items;
    if (field.value().get_array().get(items)) return false;
    for (auto item : items) {
      sj::value v;
      if (item.get(v)) return false;
      if (k == 1) {
        if (!read_input(v, &binary, &out->inputs.emplace_back())) return false;
        continue;
      }
      RequestedOutput& o = out->outputs.emplace_back();
      if (!read_output(v, &o)) return false;
      if (o.binary_data) format->binary_outputs.push_back(o.name);
    }
  }
  // Nothing may follow the object: simdjson's On-Demand API stops at its closing brace.
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS && (seen & 2u) && binary.empty();
}

}  // namespace

bool decode_binary_header(std::string_view header, std::string_view binary, InferRequest* out,
                          ResponseFormat* format) {
  if (decode(header, binary, out, format)) return true;
  out->id.clear();
  out->inputs.clear();
  out->outputs.clear();
  *format = ResponseFormat{};
  return false;
}

}  // namespace softdpu::server
