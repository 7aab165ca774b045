// .npy reader/writer. The header is a Python dict literal; it is parsed with a small recursive
// descent parser over the subset np.save writes (strings, ints, True/False/None, tuples, lists,
// dicts), with a depth limit and bounds checks everywhere so fuzzed files give errors, not crashes.
#include "core/npy.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>
#include <vector>

#include "softdpu/status.h"

namespace softdpu {
namespace {

static_assert(std::endian::native == std::endian::little,
              "npy I/O assumes a little-endian host ('<' data is used in place)");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kMaxRank = 64;      // numpy allows 32 (64 from numpy 2): more is a corrupt file
constexpr int kMaxLiteralDepth = 8;  // the real header nests two levels deep

[[noreturn]] void fail(const std::string& what, const std::string& message) {
  throw Error(StatusCode::kInvalidArgument, what + ": " + message);
}

// A parsed Python literal.
struct PyValue {
  enum class Kind { kStr, kInt, kBool, kNone, kTuple, kList, kDict } kind = Kind::kNone;
  std::string str;             // kStr
  int64_t integer = 0;         // kInt
  bool boolean = false;        // kBool
  std::vector<PyValue> items;  // kTuple, kList; kDict as key, value, key, value, ...
};

class LiteralParser {
 public:
  LiteralParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  PyValue parse_document() {
    PyValue v = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected '" + snippet() + "' after the header dict");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& message) {
    fail(what_, "malformed header: " + message);
  }

  std::string snippet() const {
    std::string s(text_.substr(pos_, 16));
    for (char& c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return s;
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void expect(char c) {
    skip_space();
    if (at_end()) error(std::string("expected '") + c + "', found the end of the header");
    if (peek() != c) error(std::string("expected '") + c + "', found '" + snippet() + "'");
    ++pos_;
  }

  PyValue parse_value(int depth) {
    if (depth > kMaxLiteralDepth) error("nested too deeply");
    skip_space();
    if (at_end()) error("unexpected end of the header");
    char c = peek();
    if (c == '{') return parse_dict(depth);
    if (c == '(') return parse_sequence(depth, ')', PyValue::Kind::kTuple);
    if (c == '[') return parse_sequence(depth, ']', PyValue::Kind::kList);
    if (c == '\'' || c == '"') return parse_string();
    if (c == '-' || (c >= '0' && c <= '9')) return parse_int();
    if (std::isalpha(static_cast<unsigned char>(c))) return parse_name();
    error("unexpected '" + snippet() + "'");
  }

  PyValue parse_string() {
    char quote = text_[pos_++];
    PyValue v;
    v.kind = PyValue::Kind::kStr;
    while (true) {
      if (at_end()) error("unterminated string");
      char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\\') {  // escapes do not occur in numpy's keys or dtypes: keep the next char
        if (at_end()) error("unterminated string");
        c = text_[pos_++];
      }
      v.str.push_back(c);
    }
    return v;
  }

  PyValue parse_int() {
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (at_end() || !std::isdigit(static_cast<unsigned char>(peek()))) error("malformed number");
    uint64_t value = 0;
    while (!at_end() && std::isdigit(static_cast<unsigned char>(peek()))) {
      uint64_t digit = static_cast<uint64_t>(peek() - '0');
      if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10) {
        error("number too large");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (!at_end() && (peek() == 'L' || peek() == 'l')) ++pos_;  // Python 2 longs in old files
    PyValue v;
    v.kind = PyValue::Kind::kInt;
    v.integer = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    return v;
  }

  PyValue parse_name() {
    size_t start = pos_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')) ++pos_;
    std::string_view name = text_.substr(start, pos_ - start);
    PyValue v;
    if (name == "True" || name == "False") {
      v.kind = PyValue::Kind::kBool;
      v.boolean = name == "True";
    } else if (name == "None") {
      v.kind = PyValue::Kind::kNone;
    } else {
      error("unexpected name '" + std::string(name) + "'");
    }
    return v;
  }

  // Tuples and lists. As in Python, "(3)" is the int 3, not a tuple: only a comma makes a tuple.
  PyValue parse_sequence(int depth, char close, PyValue::Kind kind) {
    ++pos_;
    PyValue v;
    v.kind = kind;
    bool saw_comma = false;
    while (true) {
      skip_space();
      if (at_end()) error(std::string("expected '") + close + "', found the end of the header");
      if (peek() == close) {
        ++pos_;
        break;
      }
      v.items.push_back(parse_value(depth + 1));
      skip_space();
      if (!at_end() && peek() == ',') {
        ++pos_;
        saw_comma = true;
        continue;
      }
      expect(close);
      break;
    }
    if (kind == PyValue::Kind::kTuple && v.items.size() == 1 && !saw_comma) {
      return std::move(v.items[0]);
    }
    return v;
  }

  PyValue parse_dict(int depth) {
    ++pos_;
    PyValue v;
    v.kind = PyValue::Kind::kDict;
    while (true) {
      skip_space();
      if (at_end()) error("expected '}', found the end of the header");
      if (peek() == '}') {
        ++pos_;
        break;
      }
      PyValue key = parse_value(depth + 1);
      if (key.kind != PyValue::Kind::kStr) error("dict keys must be strings");
      expect(':');
      PyValue value = parse_value(depth + 1);
      v.items.push_back(std::move(key));
      v.items.push_back(std::move(value));
      skip_space();
      if (!at_end() && peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      break;
    }
    return v;
  }

  std::string_view text_;
  const std::string& what_;
  size_t pos_ = 0;
};

// numpy type string ('<f4') -> DType. Byte order '<' is little-endian, '|' means "not
// applicable" (1-byte types), '=' is native (little on every host this builds for).
DType dtype_from_descr(const std::string& descr, const std::string& what) {
  if (descr.size() >= 2 && descr[1] == 'O') {
    fail(what, "object arrays ('" + descr + "') are not supported");
  }
  char order = descr.empty() ? '\0' : descr[0];
  if (descr.size() < 3 || std::strchr("<>|=", order) == nullptr) {
    fail(what, "unsupported dtype '" + descr + "' (expected a type string such as '<f4')");
  }
  char kind = descr[1];
  std::string_view size_text = std::string_view(descr).substr(2);
  int size = 0;
  for (char c : size_text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || size > 1000) {
      fail(what, "unsupported dtype '" + descr + "'");
    }
    size = size * 10 + (c - '0');
  }
  DType t = DType::kUndefined;
  switch (kind) {
    case 'f':
      t = size == 2   ? DType::kFloat16
          : size == 4 ? DType::kFloat32
          : size == 8 ? DType::kFloat64
                      : t;
      break;
    case 'i':
      t = size == 1   ? DType::kInt8
          : size == 2 ? DType::kInt16
          : size == 4 ? DType::kInt32
          : size == 8 ? DType::kInt64
                      : t;
      break;
    case 'u':
      t = size == 1   ? DType::kUInt8
          : size == 2 ? DType::kUInt16
          : size == 4 ? DType::kUInt32
          : size == 8 ? DType::kUInt64
                      : t;
      break;
    case 'b': t = size == 1 ? DType::kBool : t; break;
    default: break;
  }
  if (t == DType::kUndefined) fail(what, "unsupported dtype '" + descr + "'");
  if (order == '>' && size > 1) {
    fail(what, "big-endian data ('" + descr + "') is not supported; convert it with a.astype('<" +
                   descr.substr(1) + "')");
  }
  return t;
}

const char* descr_for(DType t) {
  switch (t) {
    case DType::kFloat16: return "<f2";
    case DType::kFloat32: return "<f4";
    case DType::kFloat64: return "<f8";
    case DType::kInt8: return "|i1";
    case DType::kInt16: return "<i2";
    case DType::kInt32: return "<i4";
    case DType::kInt64: return "<i8";
    case DType::kUInt8: return "|u1";
    case DType::kUInt16: return "<u2";
    case DType::kUInt32: return "<u4";
    case DType::kUInt64: return "<u8";
    case DType::kBool: return "|b1";
    default: return nullptr;
  }
}

uint32_t read_le(const std::string& bytes, size_t offset, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + i])) << (8 * i);
  return v;
}

// Bytes before the header text: magic, version, header length (2 bytes in 1.0, 4 after).
size_t preamble_size(int major) {
  return kMagicLen + 2 + (major == 1 ? 2 : 4);
}

// Validates magic and version; returns the preamble size. `bytes` holds at least kMagicLen + 2.
size_t check_magic(const std::string& bytes, const std::string& what) {
  if (bytes.size() < kMagicLen || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    fail(what, "not a .npy file (bad magic; expected \\x93NUMPY)");
  }
  if (bytes.size() < kMagicLen + 2) fail(what, "truncated preamble: the file ends in the version");
  int major = static_cast<uint8_t>(bytes[kMagicLen]);
  int minor = static_cast<uint8_t>(bytes[kMagicLen + 1]);
  if (major < 1 || major > 3 || minor != 0) {
    fail(what, "unsupported .npy format version " + std::to_string(major) + "." +
                   std::to_string(minor) + " (1.0, 2.0 and 3.0 are)");
  }
  return preamble_size(major);
}

}  // namespace

NpyHeader parse_npy_header(const std::string& bytes, const std::string& what) {
  size_t preamble = check_magic(bytes, what);
  NpyHeader h;
  h.major_version = static_cast<uint8_t>(bytes[kMagicLen]);
  h.minor_version = 0;
  if (bytes.size() < preamble) fail(what, "truncated preamble: the file ends in the header length");
  size_t header_len = read_le(bytes, kMagicLen + 2, preamble - kMagicLen - 2);
  if (bytes.size() - preamble < header_len) {
    fail(what, "truncated header: it should be " + std::to_string(header_len) +
                   " bytes, the file has " + std::to_string(bytes.size() - preamble));
  }
  h.data_offset = preamble + header_len;

  PyValue dict =
      LiteralParser(std::string_view(bytes).substr(preamble, header_len), what).parse_document();
  if (dict.kind != PyValue::Kind::kDict) fail(what, "malformed header: not a dict");
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const std::string& key = dict.items[i].str;
    const PyValue** slot = key == "descr"           ? &descr
                           : key == "fortran_order" ? &fortran
                           : key == "shape"         ? &shape
                                                    : nullptr;
    if (!slot) fail(what, "malformed header: unexpected key '" + key + "'");
    if (*slot) fail(what, "malformed header: duplicate key '" + key + "'");
    *slot = &dict.items[i + 1];
  }
  if (!descr) fail(what, "malformed header: no 'descr' key");
  if (!fortran) fail(what, "malformed header: no 'fortran_order' key");
  if (!shape) fail(what, "malformed header: no 'shape' key");

  if (descr->kind == PyValue::Kind::kList) fail(what, "structured dtypes are not supported");
  if (descr->kind != PyValue::Kind::kStr) fail(what, "malformed header: 'descr' is not a string");
  h.dtype = dtype_from_descr(descr->str, what);

  if (shape->kind != PyValue::Kind::kTuple) fail(what, "malformed header: 'shape' is not a tuple");
  if (shape->items.size() > kMaxRank) {
    fail(what, "rank " + std::to_string(shape->items.size()) + " is more than " +
                   std::to_string(kMaxRank));
  }
  for (const PyValue& d : shape->items) {
    if (d.kind != PyValue::Kind::kInt) fail(what, "malformed header: 'shape' holds a non-integer");
    if (d.integer < 0) fail(what, "negative dimension " + std::to_string(d.integer) + " in shape");
    h.shape.push_back(d.integer);
  }

  if (fortran->kind != PyValue::Kind::kBool) {
    fail(what, "malformed header: 'fortran_order' is not True or False");
  }
  // Rank 0 and 1 arrays are laid out the same either way, so only higher ranks are refused.
  if (fortran->boolean && h.shape.size() > 1) {
    fail(what, "Fortran-order arrays are not supported; save np.ascontiguousarray(a) instead");
  }
  return h;
}

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(StatusCode::kIoError, path + ": cannot open: " + std::strerror(errno), path);
  }
  in.seekg(0, std::ios::end);
  std::streamoff end = in.tellg();
  in.seekg(0, std::ios::beg);
  if (end < 0 || !in) throw Error(StatusCode::kIoError, path + ": cannot determine the file size");
  const size_t file_size = static_cast<size_t>(end);

  auto read_exact = [&](char* dst, size_t n) {
    in.read(dst, static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in.gcount()) != n) {
      throw Error(StatusCode::kIoError, path + ": read failed", path);
    }
  };

  // Preamble first, so the header length is validated against the file size before anything
  // the size of the header is allocated.
  std::string bytes(std::min<size_t>(file_size, kMagicLen + 2), '\0');
  read_exact(bytes.data(), bytes.size());
  size_t preamble = check_magic(bytes, path);
  if (file_size < preamble) {
    fail(path, "truncated preamble: the file ends in the header length");
  }
  bytes.resize(preamble);
  read_exact(bytes.data() + kMagicLen + 2, preamble - kMagicLen - 2);
  size_t header_len = read_le(bytes, kMagicLen + 2, preamble - kMagicLen - 2);
  if (file_size - preamble < header_len) {
    fail(path, "truncated header: it should be " + std::to_string(header_len) +
                   " bytes, the file has " + std::to_string(file_size - preamble));
  }
  bytes.resize(preamble + header_len);
  read_exact(bytes.data() + preamble, header_len);
  NpyHeader h = parse_npy_header(bytes, path);

  // Element count and byte size with overflow checks: a fuzzed shape must not wrap around.
  const size_t available = file_size - h.data_offset;
  const size_t item = dtype_size(h.dtype);
  bool has_zero = false;
  for (int64_t d : h.shape) has_zero |= d == 0;
  size_t expected = has_zero ? 0 : item;
  for (int64_t d : h.shape) {
    if (has_zero) break;
    if (expected > std::numeric_limits<size_t>::max() / static_cast<size_t>(d)) {
      fail(path, "shape " + shape_to_string(h.shape) + " is too large (" +
                     std::to_string(available) + " bytes of data in the file)");
    }
    expected *= static_cast<size_t>(d);
  }
  if (available < expected) {
    fail(path, "truncated data: expected " + std::to_string(expected) +
                   " bytes of data, file has " + std::to_string(available));
  }

  Tensor t(h.dtype, h.shape);
  if (expected) read_exact(static_cast<char*>(t.data()), expected);
  if (h.dtype == DType::kBool) {
    // Kernels rely on bools being 0 or 1; numpy treats any non-zero byte as True.
    uint8_t* b = t.data_as<uint8_t>();
    for (int64_t i = 0; i < t.numel(); ++i) b[i] = b[i] != 0;
  }
  return t;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  const char* descr = descr_for(tensor.dtype());
  if (tensor.dtype() == DType::kString) {
    throw Error(StatusCode::kInvalidArgument, path + ": string tensors cannot be written as .npy");
  }
  if (!descr) {
    throw Error(StatusCode::kInvalidArgument,
                path + ": numpy has no dtype for " + std::string(dtype_name(tensor.dtype())));
  }
  if (tensor.empty()) throw Error(StatusCode::kInvalidArgument, path + ": tensor has no data");
  if (tensor.shape().size() > kMaxRank) {
    throw Error(StatusCode::kInvalidArgument, path + ": rank " +
                                                  std::to_string(tensor.shape().size()) +
                                                  " is more than " + std::to_string(kMaxRank));
  }

  // Byte for byte what np.save (numpy 1.24) writes, including the spare room it leaves after the
  // dict so the first dimension can grow in place, and the padding to 64-byte alignment.
  const Shape& s = tensor.shape();
  std::string shape_repr = "(";
  for (size_t i = 0; i < s.size(); ++i) shape_repr += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() == 1) shape_repr += ",";
  shape_repr += ")";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shape_repr + ", }";
  if (!s.empty()) {
    constexpr size_t kGrowthAxisMaxDigits = 21;
    header.append(kGrowthAxisMaxDigits - std::to_string(s[0]).size(), ' ');
  }
  // Always format 1.0: with at most kMaxRank dimensions the header stays far below 64 KiB.
  const size_t hlen = header.size() + 1;
  header.append(64 - (kMagicLen + 2 + 2 + hlen) % 64, ' ');
  header.push_back('\n');

  std::string out(kMagic, kMagicLen);
  out += std::string("\x01\x00", 2);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;

  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    throw Error(StatusCode::kIoError, path + ": cannot create: " + std::strerror(errno), path);
  }
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  f.write(static_cast<const char*>(tensor.data()), static_cast<std::streamsize>(tensor.nbytes()));
  f.close();
  if (!f) throw Error(StatusCode::kIoError, path + ": write failed", path);
}

}  // namespace softdpu
