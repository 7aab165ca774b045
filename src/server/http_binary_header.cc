#include "server/http_binary_header.h"

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <utility>

namespace softdpu::server {
namespace {

namespace sj = simdjson::ondemand;

// Every reader returns false on anything outside the subset or malformed: the general path then
// decodes it or words the error, so nothing here needs a message.

// `{ "key": value, ... }` where each key is one of `keys` and appears at most once (unknown keys
// are outside the subset); member(k, value) reads the value of the k-th key. Returns the keys
// seen as bits.
template <size_t N, typename F>
bool members(sj::object obj, const std::string_view (&keys)[N], unsigned* seen, F&& member) {
  *seen = 0;
  for (auto f : obj) {
    sj::field field;
    std::string_view key;
    if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
    size_t k = 0;
    while (k < N && keys[k] != key) ++k;
    if (k == N || (*seen & (1u << k))) return false;
    *seen |= 1u << k;
    if (!member(k, field.value())) return false;
  }
  return true;
}

template <size_t N, typename F>
bool members(sj::value v, const std::string_view (&keys)[N], unsigned* seen, F&& member) {
  sj::object obj;
  return !v.get_object().get(obj) && members(obj, keys, seen, std::forward<F>(member));
}

bool string(sj::value v, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out->assign(s);
  return true;
}

// A non-negative integer below 10^18: it fits int64 with margin (sizes and shape dimensions);
// anything larger goes to the general path, which words the error.
bool count(sj::value v, int64_t* out) {
  uint64_t x;
  if (v.get_uint64().get(x) || x >= 1000000000000000000ull) return false;
  *out = static_cast<int64_t>(x);
  return true;
}

// `[ element, ... ]`; element(value) reads one.
template <typename F>
bool elements(sj::value v, F&& element) {
  sj::array items;
  if (v.get_array().get(items)) return false;
  for (auto item : items) {
    sj::value e;
    if (item.get(e) || !element(e)) return false;
  }
  return true;
}

bool read_input(sj::value v, std::string_view* binary, InputTensor* in) {
  static constexpr std::string_view kKeys[] = {"name", "datatype", "shape", "parameters"};
  static constexpr std::string_view kParams[] = {"binary_data_size"};
  int64_t size = -1;
  unsigned seen = 0, pseen = 0;
  const bool ok = members(v, kKeys, &seen, [&](size_t k, sj::value value) {
    switch (k) {
      case 0: return string(value, &in->name);
      case 1: return string(value, &in->datatype);
      case 2:
        in->shape.reserve(4);  // batch-1 shapes: one allocation, not two
        return elements(value, [&](sj::value d) {
          int64_t n;
          if (!count(d, &n)) return false;
          in->shape.push_back(n);
          return true;
        });
      default:
        return members(value, kParams, &pseen,
                       [&](size_t, sj::value s) { return count(s, &size); });
    }
  });
  if (!ok || in->name.empty() || in->datatype.empty() || !(seen & 4u) || size < 0) return false;
  // What the general path checks before taking the bytes; its errors are worded there.
  const auto dt = datatype_from_name(in->datatype);
  if (!dt || *dt == DType::kString || static_cast<uint64_t>(size) > binary->size()) return false;
  in->data.assign(binary->data(), static_cast<size_t>(size));
  binary->remove_prefix(static_cast<size_t>(size));
  return true;
}

bool read_output(sj::value v, RequestedOutput* out) {
  static constexpr std::string_view kKeys[] = {"name", "parameters"};
  static constexpr std::string_view kParams[] = {"binary_data"};
  unsigned seen = 0, pseen = 0;
  const bool ok = members(v, kKeys, &seen, [&](size_t k, sj::value value) {
    if (k == 0) return string(value, &out->name);
    return members(value, kParams, &pseen,
                   [&](size_t, sj::value b) { return !b.get_bool().get(out->binary_data); });
  });
  return ok && (seen & 1u);
}

bool decode(std::string_view header, std::string_view binary, InferRequest* out,
            ResponseFormat* format) {
  // The parser and the copy keep their capacity per I/O thread: bound it, so that one request
  // with a huge header does not pin its size for the life of the thread.
  constexpr size_t kMaxHeader = 64 * 1024;
  if (header.size() > kMaxHeader) return false;
  thread_local sj::parser parser(kMaxHeader);
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: parse a padded copy (one per
  // thread, grown once) rather than rely on what follows the header in the body.
  thread_local std::string padded;
  padded.assign(header);
  padded.resize(header.size() + simdjson::SIMDJSON_PADDING);
  sj::document doc;
  sj::object obj;
  if (parser.iterate(padded.data(), header.size(), padded.size()).get(doc) ||
      doc.get_object().get(obj))
    return false;
  static constexpr std::string_view kKeys[] = {"id", "inputs", "outputs"};
  unsigned seen = 0;
  const bool ok = members(obj, kKeys, &seen, [&](size_t k, sj::value value) {
    if (k == 0) return string(value, &out->id);
    if (k == 1)
      return elements(
          value, [&](sj::value v) { return read_input(v, &binary, &out->inputs.emplace_back()); });
    return elements(value, [&](sj::value v) {
      RequestedOutput& o = out->outputs.emplace_back();
      if (!read_output(v, &o)) return false;
      if (o.binary_data) format->binary_outputs.push_back(o.name);
      return true;
    });
  });
  // Nothing may follow the object: simdjson's On-Demand API stops at its closing brace.
  return ok && doc.current_location().error() == simdjson::OUT_OF_BOUNDS && (seen & 2u) &&
         binary.empty();
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
