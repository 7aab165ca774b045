#include "server/http_binary_header.h"

#include <cstdint>
#include <utility>

namespace softdpu::server {
namespace {

// A strict reader of the JSON subset above. Every method returns false on anything outside it.
class Reader {
 public:
  explicit Reader(std::string_view t) : t_(t) {}

  bool eat(char c) {
    skip_ws();
    if (i_ >= t_.size() || t_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool at(char c) {
    skip_ws();
    return i_ < t_.size() && t_[i_] == c;
  }
  bool at_end() {
    skip_ws();
    return i_ == t_.size();
  }
  // A string of printable ASCII without escapes (JSON would allow more; the general path has it).
  bool string(std::string_view* s) {
    if (!eat('"')) return false;
    const size_t start = i_;
    while (i_ < t_.size() && t_[i_] != '"') {
      const auto c = static_cast<unsigned char>(t_[i_]);
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++i_;
    }
    if (i_ >= t_.size()) return false;
    *s = t_.substr(start, i_ - start);
    ++i_;
    return true;
  }
  // A non-negative integer as JSON writes it (no leading zero, fraction or exponent), < 10^18.
  bool count(int64_t* v) {
    skip_ws();
    const size_t start = i_;
    int64_t x = 0;
    while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9' && i_ - start < 18)
      x = x * 10 + (t_[i_++] - '0');
    if (i_ == start || (t_[start] == '0' && i_ - start > 1)) return false;
    if (i_ < t_.size() &&
        (t_[i_] == '.' || t_[i_] == 'e' || t_[i_] == 'E' || (t_[i_] >= '0' && t_[i_] <= '9')))
      return false;
    *v = x;
    return true;
  }
  bool boolean(bool* b) {
    skip_ws();
    for (const std::string_view word : {std::string_view("true"), std::string_view("false")}) {
      if (t_.substr(i_, word.size()) == word) {
        i_ += word.size();
        *b = word[0] == 't';
        return true;
      }
    }
    return false;
  }
  // `{ "key": <value read by member(key)>, ... }`; each key at most once (bit k of `seen` for
  // the k-th of `keys`), unknown keys refused.
  template <size_t N, typename F>
  bool object(const std::string_view (&keys)[N], F&& member) {
    if (!eat('{')) return false;
    unsigned seen = 0;
    if (eat('}')) return true;
    do {
      std::string_view key;
      if (!string(&key) || !eat(':')) return false;
      size_t k = 0;
      while (k < N && keys[k] != key) ++k;
      if (k == N || (seen & (1u << k))) return false;
      seen |= 1u << k;
      if (!member(k)) return false;
    } while (eat(','));
    return eat('}');
  }
  // `[ <element>, ... ]`
  template <typename F>
  bool array(F&& element) {
    if (!eat('[')) return false;
    if (eat(']')) return true;
    do {
      if (!element()) return false;
    } while (eat(','));
    return eat(']');
  }

 private:
  void skip_ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  std::string_view t_;
  size_t i_ = 0;
};

bool read_input(Reader& r, std::string_view* binary, InputTensor* in) {
  static constexpr std::string_view kKeys[] = {"name", "datatype", "shape", "parameters"};
  static constexpr std::string_view kParams[] = {"binary_data_size"};
  std::string_view name, datatype;
  int64_t size = -1;
  bool has_shape = false;
  const bool ok = r.object(kKeys, [&](size_t k) {
    switch (k) {
      case 0: return r.string(&name);
      case 1: return r.string(&datatype);
      case 2:
        has_shape = true;
        in->shape.reserve(4);  // one allocation for the usual ranks, not one per growth
        return r.array([&] {
          int64_t d;
          if (!r.count(&d)) return false;
          in->shape.push_back(d);
          return true;
        });
      default: return r.object(kParams, [&](size_t) { return r.count(&size); });
    }
  });
  if (!ok || name.empty() || datatype.empty() || !has_shape || size < 0) return false;
  in->name.assign(name);
  in->datatype.assign(datatype);
  // What the general path checks before taking the bytes; its errors are worded there.
  const auto dt = datatype_from_name(in->datatype);
  if (!dt || *dt == DType::kString || static_cast<uint64_t>(size) > binary->size()) return false;
  in->data.assign(binary->data(), static_cast<size_t>(size));
  binary->remove_prefix(static_cast<size_t>(size));
  return true;
}

bool read_output(Reader& r, RequestedOutput* out) {
  static constexpr std::string_view kKeys[] = {"name", "parameters"};
  static constexpr std::string_view kParams[] = {"binary_data"};
  std::string_view name;
  bool has_name = false;
  const bool ok = r.object(kKeys, [&](size_t k) {
    if (k == 0) return has_name = r.string(&name);
    return r.object(kParams, [&](size_t) { return r.boolean(&out->binary_data); });
  });
  if (!ok || !has_name) return false;
  out->name.assign(name);
  return true;
}

bool decode(std::string_view header, std::string_view binary, InferRequest* out,
            ResponseFormat* format) {
  static constexpr std::string_view kKeys[] = {"id", "inputs", "outputs"};
  Reader r(header);
  bool has_inputs = false;
  const bool ok = r.object(kKeys, [&](size_t k) {
    switch (k) {
      case 0: {
        std::string_view id;
        if (!r.string(&id)) return false;
        out->id.assign(id);
        return true;
      }
      case 1:
        has_inputs = true;
        return r.array([&] { return read_input(r, &binary, &out->inputs.emplace_back()); });
      default:
        return r.array([&] {
          RequestedOutput& o = out->outputs.emplace_back();
          if (!read_output(r, &o)) return false;
          if (o.binary_data) format->binary_outputs.push_back(o.name);
          return true;
        });
    }
  });
  return ok && r.at_end() && has_inputs && binary.empty();
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
